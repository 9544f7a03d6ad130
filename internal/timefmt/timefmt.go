// Package timefmt writes datetimes as API.md §0.2 wants them: RFC 3339 in
// UTC with a "Z", fractional seconds only when non-zero (up to microseconds).
// Naive timestamp columns hold UTC wall-clock time and are read as UTC.
package timefmt

import (
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// Layout is the API's datetime layout (trailing zeros of the fraction dropped).
const Layout = "2006-01-02T15:04:05.999999Z"

// Time is a datetime column value in the API's format. It scans both
// timestamp and timestamptz columns.
type Time struct {
	time.Time
}

// Format renders t in the API's format.
func Format(t time.Time) string { return t.UTC().Format(Layout) }

// MarshalJSON writes the API's format.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + Format(t.Time) + `"`), nil
}

// ScanTimestamp implements pgtype.TimestampScanner (timestamp without time zone).
func (t *Time) ScanTimestamp(v pgtype.Timestamp) error {
	if !v.Valid {
		return fmt.Errorf("timefmt: NULL into non-pointer Time")
	}
	t.Time = time.Date(v.Time.Year(), v.Time.Month(), v.Time.Day(), v.Time.Hour(), v.Time.Minute(),
		v.Time.Second(), v.Time.Nanosecond(), time.UTC)
	return nil
}

// ScanTimestamptz implements pgtype.TimestamptzScanner.
func (t *Time) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		return fmt.Errorf("timefmt: NULL into non-pointer Time")
	}
	t.Time = v.Time.UTC()
	return nil
}

// Value writes the time as UTC (for parameters).
func (t Time) Value() (driver.Value, error) { return t.Time.UTC(), nil }

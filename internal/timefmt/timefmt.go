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
func Format(t time.Time) string { return string(Append(make([]byte, 0, 27), t)) }

// Append appends t in the API's format, as t.UTC().AppendFormat(dst, Layout)
// does but without interpreting the layout: the hot responses format
// several hundred timestamps each. Years outside 0000–9999 (which the
// fixed-width fast path cannot write) go through AppendFormat.
func Append(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, Layout)
	}
	hour, minute, sec := t.Clock()
	dst = append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10))
	// .999999: microseconds, truncated, trailing zeros (and a bare dot) dropped.
	if us := t.Nanosecond() / 1000; us != 0 {
		var frac [7]byte
		frac[0] = '.'
		for i := 6; i >= 1; i-- {
			frac[i] = byte('0' + us%10)
			us /= 10
		}
		n := 7
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}

// MarshalJSON writes the API's format.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 29)
	b = append(b, '"')
	b = Append(b, t.Time)
	return append(b, '"'), nil
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

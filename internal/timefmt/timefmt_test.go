package timefmt_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"platform/internal/testdb"
	"platform/internal/timefmt"
)

func TestFormat(t *testing.T) {
	cases := map[time.Time]string{
		time.Date(2025, 6, 4, 8, 30, 0, 0, time.UTC):                        "2025-06-04T08:30:00Z",
		time.Date(2025, 6, 4, 8, 30, 0, 123456000, time.UTC):                "2025-06-04T08:30:00.123456Z",
		time.Date(2025, 6, 4, 8, 30, 0, 120000000, time.UTC):                "2025-06-04T08:30:00.12Z",
		time.Date(2025, 6, 4, 14, 30, 0, 0, time.FixedZone("ALMT", 6*3600)): "2025-06-04T08:30:00Z",
	}
	for in, want := range cases {
		b, err := json.Marshal(timefmt.Time{Time: in})
		if err != nil || string(b) != `"`+want+`"` {
			t.Errorf("Marshal(%v) = %s, %v; want %q", in, b, err, want)
		}
	}
}

// Naive timestamp columns hold UTC wall-clock time whatever the session's
// time zone; NULLs scan into nil pointers.
func TestScanColumns(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	var naive, aware *timefmt.Time
	var null *timefmt.Time
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET TIME ZONE 'Asia/Almaty'`); err != nil {
		t.Fatal(err)
	}
	err = conn.QueryRow(ctx, `SELECT '2025-06-04 08:30:00'::timestamp, '2025-06-04 14:30:00+06'::timestamptz, NULL::timestamp`).
		Scan(&naive, &aware, &null)
	if err != nil {
		t.Fatal(err)
	}
	if null != nil {
		t.Errorf("NULL scanned as %v", null)
	}
	for _, v := range []*timefmt.Time{naive, aware} {
		if got := timefmt.Format(v.Time); got != "2025-06-04T08:30:00Z" {
			t.Errorf("scanned %s", got)
		}
	}
}

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

// Append is the hand-written equivalent of AppendFormat(Layout) in UTC:
// compared on edge values and on many pseudo-random instants.
func TestAppendMatchesLayout(t *testing.T) {
	t.Parallel()
	check := func(tm time.Time) {
		t.Helper()
		want := tm.UTC().Format(timefmt.Layout)
		if got := string(timefmt.Append(nil, tm)); got != want {
			t.Fatalf("Append(%v) = %q, want %q", tm, got, want)
		}
	}
	for _, tm := range []time.Time{
		{},
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 6, 4, 8, 30, 0, 1000, time.UTC),
		time.Date(2025, 6, 4, 8, 30, 0, 999, time.UTC), // below a microsecond: no fraction
		time.Date(2025, 6, 4, 8, 30, 0, 100000000, time.FixedZone("", -3*3600)),
	} {
		check(tm)
	}
	// A fixed LCG: deterministic, spread over years 0–9999 and every fraction width.
	x := uint64(1)
	for range 20000 {
		x = x*6364136223846793005 + 1442695040888963407
		sec := int64(x>>20) % (253402300800 + 62135596800)
		nsec := int64(x % 1e9)
		if x&3 == 0 {
			nsec -= nsec % 1000000 // fewer digits
		}
		check(time.Unix(sec-62135596800, nsec))
	}
}

func BenchmarkAppend(b *testing.B) {
	tm := time.Date(2025, 6, 4, 8, 30, 0, 123456000, time.UTC)
	buf := make([]byte, 0, 64)
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = timefmt.Append(buf[:0], tm)
		}
	})
	b.Run("AppendFormat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = tm.UTC().AppendFormat(buf[:0], timefmt.Layout)
		}
	})
}

package migrations_test

import (
	"fmt"
	"io/fs"
	"testing"

	"platform/migrations"
)

// Every version from 1 to Latest has an up and a down file, and nothing lies
// beyond Latest: golang-migrate walks the versions in order, so a gap or a
// missing down file would break migrate up/down half-way.
func TestLatestIsTheLastOfAContiguousSequence(t *testing.T) {
	t.Parallel()
	latest := migrations.Latest()
	if latest < 5 {
		t.Fatalf("Latest() = %d; migrations 1-5 have shipped", latest)
	}
	for v := uint(1); v <= latest+1; v++ {
		for _, dir := range []string{"up", "down"} {
			matches, err := fs.Glob(migrations.FS, fmt.Sprintf("%06d_*.%s.sql", v, dir))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case v <= latest && len(matches) != 1:
				t.Errorf("version %d: %d %s files, want 1", v, len(matches), dir)
			case v > latest && len(matches) != 0:
				t.Errorf("version %d beyond Latest() = %d: %v", v, latest, matches)
			}
		}
	}
}

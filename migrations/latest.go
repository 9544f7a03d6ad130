package migrations

import (
	"io/fs"
	"strconv"
	"strings"
)

// Latest is the version of the newest migration in FS (the number before the
// first "_" of its .up.sql file), so tests and tools ask for "the current
// schema" without a number that goes stale with every new migration. It
// panics if FS holds a misnamed .up.sql file, which the embed makes a build
// defect rather than a runtime condition.
func Latest() uint {
	names, err := fs.Glob(FS, "*.up.sql")
	if err != nil {
		panic("migrations: " + err.Error()) // only for a malformed pattern
	}
	var latest uint
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseUint(num, 10, 64)
		if !ok || err != nil {
			panic("migrations: misnamed migration " + name)
		}
		latest = max(latest, uint(v))
	}
	return latest
}

package groups_test

import "platform/internal/admin/internal/admintest"

// The shared helpers under the names these tests use.
var (
	upload     = admintest.Upload
	xlsx       = admintest.XLSX
	fileExists = admintest.FileExists
	writeFile  = admintest.WriteFile
	equalJSON  = admintest.EqualJSON
	itoa       = admintest.Itoa
	seedTree   = admintest.SeedTree
)

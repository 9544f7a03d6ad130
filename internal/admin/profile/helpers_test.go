package profile_test

import "platform/internal/admin/internal/admintest"

// The shared helpers under the names these tests use.
var (
	upload     = admintest.Upload
	fileExists = admintest.FileExists
	writeFile  = admintest.WriteFile
	pngBytes   = admintest.PNG
	equalJSON  = admintest.EqualJSON
	itoa       = admintest.Itoa
)

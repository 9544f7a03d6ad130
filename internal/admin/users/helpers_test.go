package users_test

import "platform/internal/admin/internal/admintest"

// The shared helpers under the names these tests use.
var (
	fileExists = admintest.FileExists
	writeFile  = admintest.WriteFile
	equalJSON  = admintest.EqualJSON
	seedTree   = admintest.SeedTree
)

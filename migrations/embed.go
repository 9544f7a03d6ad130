// Package migrations holds the SQL migrations, embedded so the binary and the
// test databases always run the same schema.
package migrations

import "embed"

// FS holds every *.sql migration file (golang-migrate naming: NNNNNN_name.up.sql / .down.sql).
//
//go:embed *.sql
var FS embed.FS

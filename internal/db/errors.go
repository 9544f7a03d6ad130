package db

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes the repositories recognise.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// IsUniqueViolation reports whether err is a unique violation, optionally of
// one of the named constraints (any constraint when none is named).
func IsUniqueViolation(err error, constraints ...string) bool {
	return isCode(err, codeUniqueViolation, constraints)
}

// IsForeignKeyViolation reports whether err is a foreign-key violation,
// optionally of one of the named constraints.
func IsForeignKeyViolation(err error, constraints ...string) bool {
	return isCode(err, codeForeignKeyViolation, constraints)
}

func isCode(err error, code string, constraints []string) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != code {
		return false
	}
	if len(constraints) == 0 {
		return true
	}
	for _, c := range constraints {
		if pg.ConstraintName == c {
			return true
		}
	}
	return false
}

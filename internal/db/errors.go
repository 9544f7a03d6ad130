package db

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"platform/internal/apperr"
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

// SQLSTATEs of a server that is going away or not accepting work yet.
var unavailableCodes = map[string]bool{
	"57P01": true, // admin_shutdown
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now (starting up, in recovery)
	"53300": true, // too_many_connections
}

// unavailable reports whether err says the database cannot be reached or is
// not serving (refused, reset, shut down, recovering): a condition the client
// may retry after, answered 503 rather than 500 (API.md §0.4).
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return unavailableCodes[pg.Code] || strings.HasPrefix(pg.Code, "08")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, pgconn.ErrConnClosed) // how pgx reports a socket that went away mid-query
}

// withKind gives err, when it is the database being unreachable or a commit
// whose outcome is unknown, the kind of §0.4's 503: the client may retry (a
// retried create then gets the contract's "exists" answer if the first
// attempt did commit), and the edge logs "database unavailable" once per
// burst. Any other error, and one that already has a kind, is returned as is.
func withKind(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	if unavailable(err) || CommitUnknown(err) {
		return apperr.Down("database", 0, err).WithReason("db_down")
	}
	return err
}

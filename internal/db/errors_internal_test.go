package db

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"platform/internal/apperr"
)

func TestUnavailable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"cannot connect now (recovery)", fmt.Errorf("db: acquire: %w", &pgconn.PgError{Code: "57P03"}), true},
		{"connection exception class", &pgconn.PgError{Code: "08006"}, true},
		{"refused", &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, true},
		{"reset", fmt.Errorf("x: %w", syscall.ECONNRESET), true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"no rows", pgx.ErrNoRows, false},
		{"plain", errors.New("boom"), false},
	}
	for _, c := range cases {
		if got := unavailable(c.err); got != c.want {
			t.Errorf("%s: unavailable = %v, want %v", c.name, got, c.want)
		}
	}
}

// The database being away, or a commit's outcome unknown, is the 503 of
// §0.4 carried by the error itself; other errors keep their identity.
func TestWithKind(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		fmt.Errorf("db: acquire: %w", &pgconn.PgError{Code: "57P03"}),
		fmt.Errorf("%w: %w", ErrCommitUnknown, io.ErrUnexpectedEOF),
	} {
		got := withKind(err)
		e, ok := apperr.As(got)
		if !ok || e.Kind != apperr.KindUnavailable || e.Down != "database" || e.Reason != "db_down" ||
			e.Detail != apperr.Overloaded(nil).Detail || !errors.Is(got, err) {
			t.Errorf("withKind(%v) = %#v", err, got)
		}
	}
	shed := apperr.Overloaded(io.EOF)
	for _, err := range []error{nil, pgx.ErrNoRows, &pgconn.PgError{Code: "23505"}, shed} {
		if got := withKind(err); got != err {
			t.Errorf("withKind(%v) = %v, want it unchanged", err, got)
		}
	}
}

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
		if got := Unavailable(c.err); got != c.want {
			t.Errorf("%s: Unavailable = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCommitOutcomeKnown(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"answered ROLLBACK", pgx.ErrTxCommitRollback, true},
		{"deferred constraint", &pgconn.PgError{Code: "23503"}, true},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, true},
		{"shutdown while committing", &pgconn.PgError{Code: "57P01"}, false},
		{"connection lost", io.ErrUnexpectedEOF, false},
		{"conn closed (pgx after a lost answer)", pgconn.ErrConnClosed, false},
	}
	for _, c := range cases {
		if got := commitOutcomeKnown(c.err); got != c.want {
			t.Errorf("%s: known = %v, want %v", c.name, got, c.want)
		}
	}
}

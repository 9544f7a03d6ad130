package db

import (
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

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

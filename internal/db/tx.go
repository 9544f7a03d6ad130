package db

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrCommitUnknown marks a COMMIT whose outcome the server never confirmed:
// the connection broke after the command may have reached PostgreSQL, so the
// transaction may have committed. Callers must not undo its side effects
// (files written for its rows); the orphan reconciler removes them later if
// the rows never landed (ARCHITECTURE.md, "Files and rows").
var ErrCommitUnknown = errors.New("db: commit outcome unknown")

// CommitUnknown reports whether err is a commit whose outcome is unknown.
func CommitUnknown(err error) bool { return errors.Is(err, ErrCommitUnknown) }

// beginner is what runTx needs from a connection.
type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// runTx is pgx.BeginFunc that tells a definite failure from an unknown
// commit outcome: fn failing, or COMMIT answered with an error or ROLLBACK,
// mean nothing was written; any other COMMIT failure (the connection lost
// after COMMIT may have been sent) is ErrCommitUnknown.
func runTx(ctx context.Context, c beginner, fn func(pgx.Tx) error) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(ctx) // the connection is discarded if this fails
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		if commitOutcomeKnown(err) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrCommitUnknown, err)
	}
	return nil
}

// commitOutcomeKnown reports whether a failed COMMIT certainly rolled back.
// pgconn.SafeToRetry cannot tell: when the connection breaks while pgx
// waits for COMMIT's answer, pgx closes it and reports "conn closed", an
// error that claims it is safe to retry (tested with a dropped COMMIT in
// internal/faults).
func commitOutcomeKnown(err error) bool {
	if errors.Is(err, pgx.ErrTxCommitRollback) {
		return true
	}
	var pg *pgconn.PgError
	// A server error answering COMMIT (a deferred constraint, a serialization
	// failure) rolls back; a shutdown reported at that moment says nothing
	// about whether the commit record was written first.
	return errors.As(err, &pg) && !unavailableCodes[pg.Code] && !strings.HasPrefix(pg.Code, "08")
}

package auth

import (
	"context"
	"fmt"
	"time"

	"platform/internal/db"
)

// Throttle is the login throttle of API.md §0.5.4, kept in table
// login_attempts so every instance shares it and it survives restarts.
type Throttle struct {
	q db.DBTX
}

// NewThrottle returns a Throttle on the given database.
func NewThrottle(q db.DBTX) *Throttle { return &Throttle{q: q} }

// Attempt counts one login attempt for key in a single statement, so
// concurrent attempts serialise on the row. It returns the minutes left
// (≥ 1) when the key was already locked; then nothing changed and the
// password must not be checked.
func (t *Throttle) Attempt(ctx context.Context, key string) (lockedMinutes int, err error) {
	// A lock that has expired, or a last failure over 15 minutes ago, restarts
	// the count. The 5th counted failure sets the lock, yet that attempt is
	// still verified. A refused attempt leaves last_failed_at unchanged, which
	// is how RETURNING tells the two apart (now() is fixed per statement).
	const q = `
INSERT INTO login_attempts AS la (iin, failed_count, last_failed_at, locked_until)
VALUES ($1, 1, now(), NULL)
ON CONFLICT (iin) DO UPDATE SET
    failed_count = CASE
        WHEN la.locked_until > now() THEN la.failed_count
        WHEN la.locked_until IS NOT NULL OR la.last_failed_at < now() - interval '15 minutes' THEN 1
        ELSE la.failed_count + 1 END,
    locked_until = CASE
        WHEN la.locked_until > now() THEN la.locked_until
        WHEN la.locked_until IS NULL AND la.last_failed_at >= now() - interval '15 minutes'
             AND la.failed_count + 1 >= 5 THEN now() + interval '5 minutes'
        ELSE NULL END,
    last_failed_at = CASE WHEN la.locked_until > now() THEN la.last_failed_at ELSE now() END
RETURNING CASE WHEN locked_until > now() AND last_failed_at <> now()
               THEN GREATEST(1, CEIL(EXTRACT(EPOCH FROM locked_until - now()) / 60))::int
               ELSE 0 END`
	if err := t.q.QueryRow(ctx, q, key).Scan(&lockedMinutes); err != nil {
		return 0, fmt.Errorf("auth: count login attempt: %w", err)
	}
	return lockedMinutes, nil
}

// Reset clears the key's counter and lock (a successful login, a password reset).
func (t *Throttle) Reset(ctx context.Context, key string) error {
	const q = `DELETE FROM login_attempts WHERE iin = $1`
	if _, err := t.q.Exec(ctx, q, key); err != nil {
		return fmt.Errorf("auth: reset login attempts: %w", err)
	}
	return nil
}

// Purge deletes rows idle for over a day whose lock has ended.
func (t *Throttle) Purge(ctx context.Context) (int64, error) {
	const q = `
DELETE FROM login_attempts
WHERE last_failed_at < now() - interval '1 day'
  AND (locked_until IS NULL OR locked_until <= now())`
	tag, err := t.q.Exec(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("auth: purge login attempts: %w", err)
	}
	return tag.RowsAffected(), nil
}

// PurgeEvery runs Purge on the interval until ctx ends.
func (t *Throttle) PurgeEvery(ctx context.Context, every time.Duration, logf func(n int64, err error)) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		n, err := t.Purge(ctx)
		if ctx.Err() != nil {
			return
		}
		logf(n, err)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

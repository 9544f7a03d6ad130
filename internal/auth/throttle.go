package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/db"
)

// Throttle is the login throttle of API.md §0.5.4. Its counter lives in
// table login_attempts, so every instance shares it and it survives
// restarts; only failed checks are counted. Concurrency is bounded in
// memory: the checks of one key in flight at once hold a reservation each
// against the key's remaining budget (5 − counted failures), a success
// returns its reservation, a failure turns it into a counted failure. So
// correct logins of one account never refuse each other (they queue for a
// moment at most), while parallel guessing verifies at most 5 wrong
// passwords per lock window on this instance.
type Throttle struct {
	q db.DBTX

	// pace, when set (NewHandler sets the Hasher), puts the wait for a
	// key's budget under LOGIN_MAX_WAIT's expected-wait rule.
	pace *Hasher

	mu   sync.Mutex
	keys map[string]*keyGate
}

// maxFailures is the count that locks a key.
const maxFailures = 5

// keyGate is one key's in-memory reservations.
type keyGate struct {
	lock     chan struct{} // capacity 1: serialises read-and-reserve and recording
	inflight int           // reservations held (checks in flight)
	failed   int           // the key's failures as last read or counted here
	changed  chan struct{} // closed and replaced whenever a check ends
	refs     int           // callers using the gate (guarded by Throttle.mu)
	waiting  int           // callers waiting for the budget
	took     time.Duration // moving average of this key's checks (0: none yet)
}

// NewThrottle returns a Throttle on the given database.
func NewThrottle(q db.DBTX) *Throttle { return &Throttle{q: q, keys: map[string]*keyGate{}} }

// Locked is the 403 of a locked key (API.md §0.5.4), minutes rounded up.
func Locked(minutes int) error {
	return apperr.Forbidden(fmt.Sprintf("Превышено число попыток.Повторите через %d мин.", minutes))
}

// Check runs verify as one throttled password check of key: when the key is
// locked it answers Locked without calling verify; otherwise it waits (while
// ctx lives) until the key's budget admits one more check in flight, runs
// verify, and records the outcome — a success clears the key, a failure is
// counted (the 5th locks it). An error from verify (refused for load,
// canceled before the check) returns the reservation uncounted. The outcome
// is recorded even when the client has gone, so hanging up does not hide a
// wrong guess.
//
// The wait for the budget is under the login's expected-wait rule (API.md
// §0.5.5, issue 21): a caller that would wait longer than LOGIN_MAX_WAIT
// for its turn — the callers ahead of it on this key, over the checks the
// budget runs at once, times the key's measured check time — is refused
// with the 503 and Retry-After at once, and no caller waits past
// LOGIN_MAX_WAIT; the bcrypt queue then counts the time already waited. So
// a crowd on one account gets answers, not an unbounded wait.
func (t *Throttle) Check(ctx context.Context, key string, verify func(context.Context) (bool, error)) (bool, error) {
	g := t.gate(key)
	defer t.unref(key, g)
	arrived := time.Now()
	ctx = withArrival(ctx, arrived)
	var deadline <-chan time.Time
	for first := true; ; first = false {
		select {
		case g.lock <- struct{}{}:
		case <-ctx.Done():
			if !first {
				t.leave(g)
			}
			return false, ctx.Err()
		}
		if !first {
			g.waiting--
		}
		// The row is read on arrival, and again after a wake-up only when
		// failures were counted meanwhile (the key may be locked now): a
		// crowd of correct logins of one account waits without re-reading.
		if first || g.failed > 0 {
			minutes, failed, err := t.state(ctx, key)
			if err != nil {
				<-g.lock
				return false, err
			}
			if minutes > 0 {
				<-g.lock
				return false, Locked(minutes)
			}
			g.failed = failed
		}
		if g.inflight == 0 || g.inflight < maxFailures-g.failed {
			g.inflight++
			<-g.lock
			break
		}
		if t.pace != nil {
			if wait := t.expectedWait(g, time.Since(arrived)); wait > t.pace.maxWait {
				<-g.lock
				return false, overloaded("login queue of one account", wait, t.pace.maxWait)
			}
			if deadline == nil {
				timer := time.NewTimer(t.pace.maxWait - time.Since(arrived))
				defer timer.Stop()
				deadline = timer.C
			}
		}
		g.waiting++
		changed := g.changed
		<-g.lock
		select {
		case <-changed:
		case <-ctx.Done():
			t.leave(g)
			return false, ctx.Err()
		case <-deadline:
			t.leave(g)
			return false, overloaded("login queue of one account", t.pace.maxWait, t.pace.maxWait)
		}
	}
	started := time.Now()
	ok, err := verify(ctx)
	took := time.Since(started)
	rctx := context.WithoutCancel(ctx)
	g.lock <- struct{}{}
	switch {
	case err != nil:
	case ok:
		err = t.Reset(rctx, key)
		g.failed = 0
	default:
		err = t.fail(rctx, key)
		g.failed++
	}
	if err == nil {
		if g.took == 0 {
			g.took = took
		} else {
			g.took = (g.took*4 + took) / 5
		}
	}
	g.inflight--
	close(g.changed)
	g.changed = make(chan struct{})
	<-g.lock
	return ok, err
}

// expectedWait is a new waiter's expected wait on g: the time it has waited,
// plus one check time for each round of the budget (the checks it runs at
// once) among the waiters ahead of it and itself. A check's time is the
// key's measured average, or one verification at BCRYPT_COST before any
// was measured. The caller holds g.lock.
func (t *Throttle) expectedWait(g *keyGate, waited time.Duration) time.Duration {
	per := g.took
	if per == 0 {
		per = t.pace.checkEstimate()
	}
	parallel := max(1, maxFailures-g.failed)
	rounds := g.waiting/parallel + 1
	return waited + time.Duration(rounds)*per
}

// leave takes a waiter that gives up off g's count.
func (t *Throttle) leave(g *keyGate) {
	g.lock <- struct{}{}
	g.waiting--
	<-g.lock
}

// gate returns key's gate, creating it, and takes a reference.
func (t *Throttle) gate(key string) *keyGate {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.keys[key]
	if g == nil {
		g = &keyGate{lock: make(chan struct{}, 1), changed: make(chan struct{})}
		t.keys[key] = g
	}
	g.refs++
	return g
}

// unref drops a reference; the last one removes the gate.
func (t *Throttle) unref(key string, g *keyGate) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g.refs--; g.refs == 0 {
		delete(t.keys, key)
	}
}

// state reads the key's lock (minutes left, ≥ 1, or 0) and its current
// count of failures: 0 when there is no row, the lock has ended or the last
// failure is over 15 minutes old (the count restarts).
func (t *Throttle) state(ctx context.Context, key string) (lockedMinutes, failed int, err error) {
	const q = `
SELECT CASE WHEN locked_until > now()
            THEN GREATEST(1, CEIL(EXTRACT(EPOCH FROM locked_until - now()) / 60))::int ELSE 0 END,
       CASE WHEN locked_until IS NOT NULL OR last_failed_at < now() - interval '15 minutes'
            THEN 0 ELSE failed_count END
FROM login_attempts WHERE iin = $1`
	err = t.q.QueryRow(ctx, q, key).Scan(&lockedMinutes, &failed)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("auth: read login attempts: %w", err)
	}
	return lockedMinutes, failed, nil
}

// fail counts one failed check of key in a single statement, so concurrent
// failures (also from other instances) serialise on the row: a lock that
// has expired, or a last failure over 15 minutes ago, restarts the count;
// the 5th failure sets the lock. A key locked meanwhile stays as it is.
func (t *Throttle) fail(ctx context.Context, key string) error {
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
    last_failed_at = CASE WHEN la.locked_until > now() THEN la.last_failed_at ELSE now() END`
	if _, err := t.q.Exec(ctx, q, key); err != nil {
		return fmt.Errorf("auth: count failed login: %w", err)
	}
	return nil
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

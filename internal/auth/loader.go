package auth

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// loaderTimeout bounds one coalesced lookup. It runs on no request's
// context (one client leaving must not fail the others), so it needs a
// bound of its own; each waiter still gives up with its own context.
const loaderTimeout = 10 * time.Second

// userLoader coalesces the user lookups of concurrent requests, the way a
// dataloader does: while one lookup is in flight, the requests that arrive
// gather into the next batch, which asks PostgreSQL for all their IINs in
// one statement when the first finishes. Under load one round trip then
// serves many requests (on this 2-core machine the round trip, not the
// statement, is most of an authenticated request's cost; README, "Hot
// reads"); alone, a request runs its own lookup at once, as before.
//
// Nothing is cached: every request's user is read by a statement that
// started after the request arrived, so a write committed before it (on any
// instance, by any application) is seen exactly as with one lookup per
// request.
type userLoader struct {
	repo *Repo

	mu      sync.Mutex
	running bool         // a batch is in flight
	next    *lookupBatch // gathering while it is; nil when none waits
}

// lookupBatch is one coalesced lookup: its IINs, then its answer.
type lookupBatch struct {
	iins  []string
	done  chan struct{} // closed when users and err are set
	users []User
	err   error
}

func newUserLoader(repo *Repo) *userLoader { return &userLoader{repo: repo} }

// UserByIIN is Repo.UserByIIN, coalesced with concurrent calls.
func (l *userLoader) UserByIIN(ctx context.Context, iin string) (User, error) {
	l.mu.Lock()
	b := l.next
	if b == nil {
		b = &lookupBatch{done: make(chan struct{})}
		l.next = b
	}
	b.iins = append(b.iins, iin)
	lead := !l.running
	if lead {
		l.running, l.next = true, nil
	}
	l.mu.Unlock()

	if lead {
		// The first caller runs its own batch: alone, it costs what one
		// lookup costs. Batches that gathered meanwhile run on.
		l.query(ctx, b)
		if next := l.handOff(); next != nil {
			go l.drain(ctx, next)
		}
	} else {
		select {
		case <-b.done:
		case <-ctx.Done():
			return User{}, ctx.Err()
		}
	}
	if b.err != nil {
		return User{}, b.err
	}
	for _, u := range b.users {
		if u.IIN == iin {
			return u, nil
		}
	}
	return User{}, errNoUser
}

// drain runs b and every batch that gathers behind it.
func (l *userLoader) drain(ctx context.Context, b *lookupBatch) {
	for b != nil {
		l.query(ctx, b)
		b = l.handOff()
	}
}

// handOff takes the batch that gathered during the last one, or marks the
// loader idle when none did.
func (l *userLoader) handOff() *lookupBatch {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.next
	l.next = nil
	if b == nil {
		l.running = false
	}
	return b
}

// query answers b. ctx is the context of the request that started the
// chain, for its values only (never its cancellation).
func (l *userLoader) query(ctx context.Context, b *lookupBatch) {
	defer close(b.done)
	defer func() {
		// A panic here must not leave the loader marked running with its
		// next batch never started: every later request would wait.
		if p := recover(); p != nil {
			b.users, b.err = nil, fmt.Errorf("auth: user lookup panicked: %v", p)
		}
	}()
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loaderTimeout)
	defer cancel()
	iins := b.iins
	if len(iins) > 1 {
		iins = slices.Compact(slices.Sorted(slices.Values(iins)))
	}
	b.users, b.err = l.repo.usersByIIN(qctx, iins)
}

// usersByIIN loads the users with these IINs in one statement (those that
// exist), scanned by position.
func (repo *Repo) usersByIIN(ctx context.Context, iins []string) ([]User, error) {
	rows, err := repo.q.Query(ctx, SelectUser+`WHERE iin = ANY($1)`, iins)
	if err != nil {
		return nil, fmt.Errorf("auth: load users: %w", err)
	}
	users := make([]User, 0, len(iins))
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("auth: load users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("auth: load users: %w", err)
	}
	return users, nil
}

// scanUser scans one row of SelectUser, by position.
func scanUser(row pgx.Row) (User, error) {
	var u User
	var role string
	err := row.Scan(&u.ID, &u.IIN, &u.FullName, &u.Phone, &role, &u.Photo,
		&u.HashedPassword, &u.TokenVersion, &u.MustChangePassword,
		&u.KeptSession, &u.KeptToken)
	u.Role = Role(role)
	return u, err
}

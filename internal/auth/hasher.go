package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"platform/internal/apperr"
)

// Hasher runs every bcrypt hash and verification in at most `slots`
// concurrent workers (API.md §0.5.5). Callers wait for a slot while their
// context lives; when more than 4×slots are already waiting, new callers get
// the 503 at once instead of piling up behind a login storm.
type Hasher struct {
	cost    int
	sem     chan struct{}
	pending atomic.Int64 // waiting + running
	limit   int64

	// waited, when set, observes each operation's wait for a slot (metrics).
	waited func(time.Duration)

	dummyOnce sync.Once
	dummy     []byte
}

// NewHasher returns a Hasher writing hashes at cost with the given slot count.
func NewHasher(cost, slots int) *Hasher {
	if slots < 1 {
		slots = 1
	}
	return &Hasher{cost: cost, sem: make(chan struct{}, slots), limit: int64(slots) * 5}
}

// ObserveWait has fn called with each operation's wait for a slot; set it
// before the Hasher is used.
func (h *Hasher) ObserveWait(fn func(time.Duration)) { h.waited = fn }

// Pending is the number of operations holding a queue place (waiting or hashing).
func (h *Hasher) Pending() int64 { return h.pending.Load() }

// Slots is the number of concurrent bcrypt workers.
func (h *Hasher) Slots() int { return cap(h.sem) }

// Reservation is a place in the bcrypt queue, taken before other work (the
// login throttle) so that an overloaded server refuses without side effects.
type Reservation struct {
	h        *Hasher
	released atomic.Bool
}

// Reserve takes a place in the queue or fails with the 503.
func (h *Hasher) Reserve() (*Reservation, error) {
	if h.pending.Add(1) > h.limit {
		h.pending.Add(-1)
		return nil, apperr.Overloaded(errors.New("auth: bcrypt queue full")).WithReason("bcrypt_queue")
	}
	return &Reservation{h: h}, nil
}

// Release gives the place back; safe to call more than once.
func (r *Reservation) Release() {
	if r.released.CompareAndSwap(false, true) {
		r.h.pending.Add(-1)
	}
}

// run waits for a slot (or the context) and runs fn in it.
func (r *Reservation) run(ctx context.Context, fn func()) error {
	start := time.Now()
	select {
	case r.h.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if r.h.waited != nil {
		r.h.waited(time.Since(start))
	}
	defer func() { <-r.h.sem }()
	fn()
	return nil
}

// Hash hashes a password in a slot. The result uses passlib's "$2b$" prefix
// (the same algorithm as Go's "$2a$"), so stored hashes look like the original's.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	res, err := h.Reserve()
	if err != nil {
		return "", err
	}
	defer res.Release()
	return res.Hash(ctx, password)
}

// Hash is Hasher.Hash within an existing reservation.
func (r *Reservation) Hash(ctx context.Context, password string) (string, error) {
	var out []byte
	var herr error
	if err := r.run(ctx, func() {
		out, herr = bcrypt.GenerateFromPassword(truncate(password), r.h.cost)
	}); err != nil {
		return "", err
	}
	if herr != nil {
		return "", fmt.Errorf("auth: hash password: %w", herr)
	}
	return "$2b$" + strings.TrimPrefix(string(out), "$2a$"), nil
}

// Verify reports whether password matches hash, in a slot.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	res, err := h.Reserve()
	if err != nil {
		return false, err
	}
	defer res.Release()
	return res.Verify(ctx, hash, password)
}

// Verify is Hasher.Verify within an existing reservation. Any bcrypt variant
// ($2a$, $2b$, $2y$) and cost verifies; a stored value that is not a bcrypt
// hash never does (the original raised and answered 500).
func (r *Reservation) Verify(ctx context.Context, hash, password string) (bool, error) {
	var ok bool
	err := r.run(ctx, func() {
		ok = bcrypt.CompareHashAndPassword([]byte(hash), truncate(password)) == nil
	})
	return ok, err
}

// VerifyDummy spends one comparison against a fixed hash, so logging in with
// an unknown IIN takes as long as with a known one (API.md §0.5.3).
func (r *Reservation) VerifyDummy(ctx context.Context, password string) error {
	return r.run(ctx, func() {
		r.h.dummyOnce.Do(func() {
			r.h.dummy, _ = bcrypt.GenerateFromPassword([]byte("dummy password for unknown users"), r.h.cost)
		})
		_ = bcrypt.CompareHashAndPassword(r.h.dummy, truncate(password))
	})
}

// truncate keeps the first 72 bytes, the part bcrypt (and passlib) uses;
// Go's bcrypt refuses longer input instead of truncating.
func truncate(password string) []byte {
	b := []byte(password)
	if len(b) > 72 {
		b = b[:72]
	}
	return b
}

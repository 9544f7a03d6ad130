package auth

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"platform/internal/apperr"
	"platform/internal/web"
)

// HasherConfig sizes the bcrypt slots (API.md §0.5.5).
type HasherConfig struct {
	Cost        int           // BCRYPT_COST: every password a person chooses
	DefaultCost int           // DEFAULT_PASSWORD_COST: IIN-derived default passwords of imports
	Slots       int           // LOGIN_CONCURRENCY
	MaxWait     time.Duration // LOGIN_MAX_WAIT: expected queue wait beyond which interactive work is refused
}

// Hasher runs every bcrypt hash and verification in at most Slots
// concurrent workers (API.md §0.5.5). Admission is by expected wait, not by
// queue length: each job's time is estimated from a moving average of
// measured operations of its cost, and an interactive caller is refused
// with the 503 when the work served before it exceeds MaxWait. Fair share:
// an interactive job's turn is one past its address's last waiting job (or
// the turn being served), and jobs run by turn, then arrival — round robin
// between addresses, so a flood from one address waits behind itself.
// Bulk work (an import's default passwords, see Bulk) has the last turn: it
// runs only when no interactive job waits.
type Hasher struct {
	cost, defaultCost, slots int
	maxWait                  time.Duration
	dummy                    []byte // a hash at BCRYPT_COST for unknown users (VerifyDummy)
	waited                   func(time.Duration)
	verifications            atomic.Int64

	mu      sync.Mutex
	busy    int             // slots in use
	running time.Duration   // estimated work of the jobs in the slots
	queue   []*job          // waiting jobs, in arrival order
	turn    int             // turn of the interactive job dispatched last
	avg     map[int]float64 // moving average of measured seconds per operation, by cost
}

// job is one bcrypt operation waiting for or holding a slot.
type job struct {
	client string
	turn   int // bulkTurn for bulk work
	est    time.Duration
	ready  chan struct{} // closed when the job gets its slot
}

const (
	bulkTurn   = math.MaxInt
	ewmaWeight = 0.2 // of the newest measurement in the moving average
)

// NewHasher returns a Hasher. The dummy hash it makes at BCRYPT_COST (here
// rather than in the first unknown login, whose time it would double) is
// also the first measurement.
func NewHasher(c HasherConfig) *Hasher {
	h := &Hasher{cost: c.Cost, defaultCost: c.DefaultCost, slots: max(c.Slots, 1), maxWait: c.MaxWait}
	if h.defaultCost == 0 {
		h.defaultCost = h.cost
	}
	start := time.Now()
	h.dummy, _ = bcrypt.GenerateFromPassword([]byte("dummy password for unknown users"), h.cost)
	h.avg = map[int]float64{h.cost: time.Since(start).Seconds()}
	return h
}

// ObserveWait has fn called with each operation's wait for a slot; set it
// before the Hasher is used.
func (h *Hasher) ObserveWait(fn func(time.Duration)) { h.waited = fn }

// Pending is the number of operations holding a queue place (waiting or hashing).
func (h *Hasher) Pending() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return int64(h.busy + len(h.queue))
}

// Slots is the number of concurrent bcrypt workers.
func (h *Hasher) Slots() int { return h.slots }

// Verifications counts the password verifications run so far (including the
// dummy comparison for unknown users): what the login throttle bounds.
func (h *Hasher) Verifications() int64 { return h.verifications.Load() }

type bulkKey struct{}

// Bulk marks ctx's bcrypt work as bulk: it runs only when no interactive
// work waits, and is never refused for load (the caller bounds itself).
func Bulk(ctx context.Context) context.Context { return context.WithValue(ctx, bulkKey{}, true) }

func isBulk(ctx context.Context) bool { b, _ := ctx.Value(bulkKey{}).(bool); return b }

// estimate is the expected duration of one operation at cost: the moving
// average of that cost's measurements, else BCRYPT_COST's scaled by the
// work (2^cost rounds plus about one for the setup). Scaling from the
// dearest usual cost keeps the fixed overhead of cheap hashes out of it.
// The caller holds mu.
func (h *Hasher) estimate(cost int) time.Duration {
	secs, ok := h.avg[cost]
	if !ok {
		secs = h.avg[h.cost] * (math.Ldexp(1, cost) + 1) / (math.Ldexp(1, h.cost) + 1)
	}
	return time.Duration(secs * float64(time.Second))
}

// checkEstimate is the expected duration of one verification at BCRYPT_COST.
func (h *Hasher) checkEstimate() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.estimate(h.cost)
}

// admit queues a job for client (or as bulk work) or refuses it with the
// 503 whose Retry-After is the expected wait.
func (h *Hasher) admit(client string, bulk bool, cost, pad int, waited time.Duration) (*job, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	j := &job{client: client, turn: bulkTurn, est: h.estimate(cost), ready: make(chan struct{})}
	if pad > 0 {
		j.est += h.estimate(pad)
	}
	if !bulk {
		var wait time.Duration
		j.turn, wait = h.place(client)
		if wait += waited; wait > h.maxWait {
			return nil, overloaded("bcrypt queue", wait, h.maxWait)
		}
	}
	h.queue = append(h.queue, j)
	h.dispatch()
	return j, nil
}

// place is the turn and expected wait of a new interactive job of client:
// the running work and every waiting job of an earlier or the same turn,
// shared by the slots. The caller holds mu.
func (h *Hasher) place(client string) (turn int, wait time.Duration) {
	turn = h.turn + 1
	for _, w := range h.queue {
		if w.client == client && w.turn != bulkTurn {
			turn = max(turn, w.turn+1)
		}
	}
	if h.busy < h.slots {
		return turn, 0 // a slot is free, so nothing waits
	}
	ahead := h.running
	for _, w := range h.queue {
		if w.turn <= turn {
			ahead += w.est
		}
	}
	return turn, ahead / time.Duration(h.slots)
}

// dispatch hands free slots to the waiting jobs of the lowest turn, first
// come first. The caller holds mu.
func (h *Hasher) dispatch() {
	for h.busy < h.slots && len(h.queue) > 0 {
		next := 0
		for i, w := range h.queue {
			if w.turn < h.queue[next].turn {
				next = i
			}
		}
		j := h.queue[next]
		h.queue = slices.Delete(h.queue, next, next+1)
		if j.turn != bulkTurn {
			h.turn = j.turn
		}
		h.busy++
		h.running += j.est
		close(j.ready)
	}
}

// dequeue takes j out of the queue and reports whether it was still
// waiting (false: it holds a slot).
func (h *Hasher) dequeue(j *job) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := slices.Index(h.queue, j)
	if i >= 0 {
		h.queue = slices.Delete(h.queue, i, i+1)
	}
	return i >= 0
}

// release frees j's slot and, when j ran (took > 0), feeds its measured
// time into its cost's moving average.
func (h *Hasher) release(j *job, took time.Duration, cost int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.busy--
	h.running -= j.est
	if took > 0 {
		old, ok := h.avg[cost]
		if !ok {
			old = took.Seconds()
		}
		h.avg[cost] = (1-ewmaWeight)*old + ewmaWeight*took.Seconds()
	}
	h.dispatch()
}

// overloaded is the login 503 (API.md §0.5.5): the expected wait is over
// LOGIN_MAX_WAIT; Retry-After is the expected wait.
func overloaded(queue string, wait, maxWait time.Duration) error {
	return &apperr.Error{Kind: apperr.KindUnavailable, Detail: apperr.Overloaded(nil).Detail,
		Err:        fmt.Errorf("auth: %s: expected wait %s over %s", queue, wait.Round(time.Millisecond), maxWait),
		RetryAfter: wait, Reason: "bcrypt_queue"}
}

type arrivalKey struct{}

// withArrival marks when ctx's login began to wait (before the per-account
// budget), so the bcrypt queue's admission counts that wait too: one
// expected-wait rule for the whole login.
func withArrival(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, arrivalKey{}, t)
}

func waitedSince(ctx context.Context) time.Duration {
	if t, ok := ctx.Value(arrivalKey{}).(time.Time); ok {
		return time.Since(t)
	}
	return 0
}

// FairKey is the address a client's share of the slots is kept by: an
// IPv4 address, or the /64 of an IPv6 one (one subscriber's prefix; rotating
// addresses inside it earns no extra share).
func FairKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() || a.Is4In6() {
		return addr
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// run admits fn as one bcrypt operation at cost, waits for a slot while ctx
// lives, runs it and measures it. An operation that may pad itself with
// work at cost pad has that in its estimate; fn returns the time it spent
// padding, which is left out of cost's moving average.
func (h *Hasher) run(ctx context.Context, cost, pad int, fn func() (padded time.Duration)) error {
	bulk, waited := isBulk(ctx), waitedSince(ctx)
	j, err := h.admit(FairKey(web.ClientIP(ctx)), bulk, cost, pad, waited)
	if err != nil {
		return err
	}
	queued := time.Now()
	// Interactive work never waits past LOGIN_MAX_WAIT in all, even when the
	// estimate that admitted it was too low (issue 21).
	var expire <-chan time.Time
	if !bulk && h.maxWait > 0 {
		t := time.NewTimer(h.maxWait - waited)
		defer t.Stop()
		expire = t.C
	}
	select {
	case <-j.ready:
	case <-ctx.Done():
		if !h.dequeue(j) {
			h.release(j, 0, 0)
		}
		return ctx.Err()
	case <-expire:
		if h.dequeue(j) {
			return overloaded("bcrypt queue", h.maxWait, h.maxWait)
		}
	}
	if h.waited != nil {
		h.waited(time.Since(queued))
	}
	start := time.Now()
	padded := time.Duration(0)
	defer func() { h.release(j, time.Since(start)-padded, cost) }()
	padded = fn()
	return nil
}

// Hash hashes a password a person chose at BCRYPT_COST, in a slot. The result
// uses passlib's "$2b$" prefix (the same algorithm as Go's "$2a$"), so stored
// hashes look like the original's.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	return h.hash(ctx, password, h.cost)
}

// HashDefault hashes an IIN-derived default password (API.md §5
// upload-excel) at DEFAULT_PASSWORD_COST. Such a password is known to anyone
// who knows the IIN, which is stored next to the hash, so a high cost would
// protect nothing; the first successful login rehashes at BCRYPT_COST
// (NeedsRehash), and a password the person chooses later never uses this cost.
func (h *Hasher) HashDefault(ctx context.Context, password string) (string, error) {
	return h.hash(ctx, password, h.defaultCost)
}

func (h *Hasher) hash(ctx context.Context, password string, cost int) (string, error) {
	var out []byte
	var herr error
	if err := h.run(ctx, cost, 0, func() time.Duration {
		out, herr = bcrypt.GenerateFromPassword(truncate(password), cost)
		return 0
	}); err != nil {
		return "", err
	}
	if herr != nil {
		return "", fmt.Errorf("auth: hash password: %w", herr)
	}
	return "$2b$" + strings.TrimPrefix(string(out), "$2a$"), nil
}

// NeedsRehash reports whether a hash that just verified should be replaced
// by one at BCRYPT_COST: its cost is lower (an import's default password, or
// an older hash after the operator raised the cost), as passlib and Django
// upgrade hashes on login.
func (h *Hasher) NeedsRehash(hash string) bool {
	c, err := bcrypt.Cost([]byte(hash))
	return err == nil && c < h.cost
}

// Verify reports whether password matches hash, in a slot. Any bcrypt
// variant ($2a$, $2b$, $2y$) and cost verifies; a stored value that is not a
// bcrypt hash never does (the original raised and answered 500).
//
// A wrong password costs the same whatever the hash (API.md §0.5.3, issue
// 21): a failed comparison against a hash below BCRYPT_COST (an import's
// cheap default) is followed, in the same slot, by the dummy comparison at
// BCRYPT_COST, and a value that is not a bcrypt hash gets the dummy
// comparison alone; otherwise a wrong guess would tell in milliseconds
// which accounts still have a cheap hash. Only a correct password against a
// cheap hash is fast, and that login rehashes it at BCRYPT_COST.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return false, h.VerifyDummy(ctx, password)
	}
	pad := 0
	if cost < h.cost {
		pad = h.cost
	}
	var ok bool
	err = h.run(ctx, cost, pad, func() time.Duration {
		h.verifications.Add(1)
		ok = bcrypt.CompareHashAndPassword([]byte(hash), truncate(password)) == nil
		if ok || pad == 0 {
			return 0
		}
		start := time.Now()
		_ = bcrypt.CompareHashAndPassword(h.dummy, truncate(password))
		return time.Since(start)
	})
	return ok, err
}

// VerifyDummy spends one comparison against a fixed hash at BCRYPT_COST, so
// logging in with an unknown IIN takes as long as with a known one (API.md §0.5.3).
func (h *Hasher) VerifyDummy(ctx context.Context, password string) error {
	return h.run(ctx, h.cost, 0, func() time.Duration {
		h.verifications.Add(1)
		_ = bcrypt.CompareHashAndPassword(h.dummy, truncate(password))
		return 0
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

// SamePassword reports whether two passwords are one for bcrypt: equal in
// the first 72 bytes, the part a hash covers.
func SamePassword(a, b string) bool {
	return string(truncate(a)) == string(truncate(b))
}

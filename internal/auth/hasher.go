package auth

import (
	"context"
	"fmt"
	"math"
	"net/netip"
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
// measured hashes of its cost, and an interactive caller is refused
// with the 503 only when the work the scheduler would run before it exceeds
// MaxWait. Interactive work (logins, password changes) is served before
// bulk work (an import's default passwords, see Bulk); among interactive
// callers, each client address has its own FIFO queue and the queues are
// served round robin, so a flood from one address waits behind itself
// while everyone else keeps a short wait.
type Hasher struct {
	cost, defaultCost, slots int
	maxWait                  time.Duration

	verifications atomic.Int64

	mu      sync.Mutex
	busy    int                     // slots in use
	running time.Duration           // estimated work of the jobs in the slots
	clients map[string]*clientQueue // interactive queues with waiting jobs
	ring    []*clientQueue          // the same queues in round-robin order
	next    int                     // ring index served next
	bulk    []*job                  // bulk jobs, FIFO
	round   float64                 // seconds per bcrypt round, from the start-up calibration
	avg     map[int]float64         // moving average of measured seconds per operation, by cost

	dummy []byte // a hash at BCRYPT_COST for unknown users (VerifyDummy)

	// waited, when set, observes each operation's wait for a slot (metrics).
	waited func(time.Duration)
}

// job is one bcrypt operation waiting for or holding a slot.
type job struct {
	est     time.Duration
	ready   chan struct{} // closed when the job gets a slot
	queue   *clientQueue  // nil for bulk jobs
	granted bool
}

// clientQueue is one client address's FIFO of waiting interactive jobs.
type clientQueue struct {
	addr string
	jobs []*job
}

// ewmaWeight is the weight of the newest measurement in the moving average.
const ewmaWeight = 0.2

// NewHasher returns a Hasher. The first estimate of a bcrypt round comes
// from one hash at the minimum cost (about a millisecond); measured hashes
// refine it from then on.
func NewHasher(c HasherConfig) *Hasher {
	h := &Hasher{cost: c.Cost, defaultCost: c.DefaultCost, slots: max(c.Slots, 1), maxWait: c.MaxWait,
		clients: map[string]*clientQueue{}, avg: map[int]float64{}}
	if h.defaultCost == 0 {
		h.defaultCost = h.cost
	}
	start := time.Now()
	_, _ = bcrypt.GenerateFromPassword([]byte("calibration"), bcrypt.MinCost)
	h.round = time.Since(start).Seconds() / rounds(bcrypt.MinCost)
	// Made once here (one hash at BCRYPT_COST) rather than by the first
	// unknown login, whose measured time it would double.
	h.dummy, _ = bcrypt.GenerateFromPassword([]byte("dummy password for unknown users"), h.cost)
	return h
}

// rounds is the work of one bcrypt operation at cost in units of one
// key-expansion round: 2^cost rounds plus about one for the setup.
func rounds(cost int) float64 { return math.Ldexp(1, cost) + 1 }

// ObserveWait has fn called with each operation's wait for a slot; set it
// before the Hasher is used.
func (h *Hasher) ObserveWait(fn func(time.Duration)) { h.waited = fn }

// Pending is the number of operations holding a queue place (waiting or hashing).
func (h *Hasher) Pending() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.busy + len(h.bulk)
	for _, q := range h.ring {
		n += len(q.jobs)
	}
	return int64(n)
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
// average of that cost's measured operations, else the highest measured
// cost's scaled by the work (cheap hashes carry a fixed overhead that would
// inflate an estimate scaled up from them), else the start-up calibration.
// The caller holds mu.
func (h *Hasher) estimate(cost int) time.Duration {
	secs, ok := h.avg[cost]
	if !ok {
		secs = h.round * rounds(cost)
		best := -1
		for c := range h.avg {
			best = max(best, c)
		}
		if best >= 0 {
			secs = h.avg[best] * rounds(cost) / rounds(best)
		}
	}
	return time.Duration(secs * float64(time.Second))
}

// admit queues a job for client (or as bulk work) or refuses it with the
// 503 whose Retry-After is the expected wait.
func (h *Hasher) admit(client string, bulk bool, cost, pad int, waited time.Duration) (*job, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	j := &job{est: h.estimate(cost), ready: make(chan struct{})}
	if pad > 0 {
		j.est += h.estimate(pad)
	}
	if bulk {
		h.bulk = append(h.bulk, j)
		h.dispatch()
		return j, nil
	}
	if wait := waited + h.waitFor(client); wait > h.maxWait {
		return nil, overloaded("bcrypt queue", wait, h.maxWait)
	}
	q := h.clients[client]
	if q == nil {
		q = &clientQueue{addr: client}
		h.clients[client] = q
		h.ring = append(h.ring, q)
	}
	j.queue = q
	q.jobs = append(q.jobs, j)
	h.dispatch()
	return j, nil
}

// waitFor is the expected wait of a new interactive job of client: the
// running work, plus what round robin serves before it — the client's own
// queue, and from every other queue at most one job per job of its own.
// The caller holds mu.
func (h *Hasher) waitFor(client string) time.Duration {
	ahead := h.running
	own := 0
	if q := h.clients[client]; q != nil {
		own = len(q.jobs)
	}
	for _, q := range h.ring {
		n := len(q.jobs)
		if q.addr != client {
			n = min(n, own+1)
		}
		for _, j := range q.jobs[:n] {
			ahead += j.est
		}
	}
	if h.busy < h.slots && ahead == h.running {
		return 0 // a slot is free and nothing waits
	}
	return ahead / time.Duration(h.slots)
}

// dispatch hands free slots to waiting jobs: interactive queues round
// robin, then bulk FIFO. The caller holds mu.
func (h *Hasher) dispatch() {
	for h.busy < h.slots {
		var j *job
		switch {
		case len(h.ring) > 0:
			h.next %= len(h.ring)
			q := h.ring[h.next]
			j, q.jobs = q.jobs[0], q.jobs[1:]
			if len(q.jobs) == 0 {
				h.dropQueue(h.next) // the next queue moves into this index
			} else {
				h.next++
			}
		case len(h.bulk) > 0:
			j, h.bulk = h.bulk[0], h.bulk[1:]
		default:
			return
		}
		h.busy++
		h.running += j.est
		j.granted = true
		close(j.ready)
	}
}

// dropQueue removes the empty queue at ring index i. The caller holds mu.
func (h *Hasher) dropQueue(i int) {
	delete(h.clients, h.ring[i].addr)
	h.ring = append(h.ring[:i], h.ring[i+1:]...)
	if i < h.next {
		h.next--
	}
}

// cancel takes a job that never got its slot out of its queue; a job granted
// meanwhile gives the slot back. The caller holds mu.
func (h *Hasher) cancel(j *job) {
	if j.granted {
		h.release(j, 0, 0)
		return
	}
	if j.queue == nil {
		for i, b := range h.bulk {
			if b == j {
				h.bulk = append(h.bulk[:i], h.bulk[i+1:]...)
				return
			}
		}
		return
	}
	q := j.queue
	for i, w := range q.jobs {
		if w == j {
			q.jobs = append(q.jobs[:i], q.jobs[i+1:]...)
			break
		}
	}
	if len(q.jobs) == 0 {
		for i, r := range h.ring {
			if r == q {
				h.dropQueue(i)
				break
			}
		}
	}
}

// release frees the job's slot and, when the job ran (took > 0), feeds its
// measured time into its cost's moving average. The caller holds mu.
func (h *Hasher) release(j *job, took time.Duration, cost int) {
	h.busy--
	h.running -= j.est
	if took > 0 {
		if old, ok := h.avg[cost]; ok {
			h.avg[cost] = (1-ewmaWeight)*old + ewmaWeight*took.Seconds()
		} else {
			h.avg[cost] = took.Seconds()
		}
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

// checkEstimate is the expected duration of one verification at BCRYPT_COST.
func (h *Hasher) checkEstimate() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.estimate(h.cost)
}

// run admits fn as one bcrypt operation at cost, waits for a slot while ctx
// lives, runs it and measures it.
func (h *Hasher) run(ctx context.Context, cost int, fn func()) error {
	return h.runPadded(ctx, cost, 0, func() time.Duration { fn(); return 0 })
}

// runPadded is run for an operation that may pad itself with work at cost
// pad (its estimate includes it); fn returns the time it spent padding,
// which is left out of cost's moving average.
func (h *Hasher) runPadded(ctx context.Context, cost, pad int, fn func() time.Duration) error {
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
		h.mu.Lock()
		h.cancel(j)
		h.mu.Unlock()
		return ctx.Err()
	case <-expire:
		h.mu.Lock()
		granted := j.granted
		if !granted {
			h.cancel(j)
		}
		h.mu.Unlock()
		if !granted {
			return overloaded("bcrypt queue", h.maxWait, h.maxWait)
		}
	}
	if h.waited != nil {
		h.waited(time.Since(queued))
	}
	start := time.Now()
	padded := time.Duration(0)
	defer func() {
		took := time.Since(start) - padded
		h.mu.Lock()
		h.release(j, took, cost)
		h.mu.Unlock()
	}()
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
	if err := h.run(ctx, cost, func() {
		out, herr = bcrypt.GenerateFromPassword(truncate(password), cost)
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
	err = h.runPadded(ctx, cost, pad, func() time.Duration {
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
	return h.run(ctx, h.cost, func() {
		h.verifications.Add(1)
		_ = bcrypt.CompareHashAndPassword(h.dummy, truncate(password))
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

package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"platform/internal/apperr"
)

// testHasher has slots and a moving average set so that one operation at
// cost 4 is estimated at exactly one second.
func testHasher(slots int, maxWait time.Duration) *Hasher {
	h := NewHasher(HasherConfig{Cost: 4, DefaultCost: 4, Slots: slots, MaxWait: maxWait})
	h.avg[4] = 1
	return h
}

// finish ends a job that got its slot, as run does after the hash.
func (h *Hasher) finish(j *job) { h.release(j, 0, 0) }

// waitFor is the expected wait a new interactive job of client would get.
func (h *Hasher) waitFor(client string) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, wait := h.place(client)
	return wait
}

func granted(j *job) bool {
	select {
	case <-j.ready:
		return true
	default:
		return false
	}
}

func mustAdmit(t *testing.T, h *Hasher, client string, bulk bool) *job {
	t.Helper()
	j, err := h.admit(client, bulk, 4, 0, 0)
	if err != nil {
		t.Fatalf("admit %s: %v", client, err)
	}
	return j
}

// A caller waiting for a busy slot gives up when its context ends, leaves
// no trace in the queue, and the slot is taken once it is free.
func TestHasherWaitCanceled(t *testing.T) {
	t.Parallel()
	h := testHasher(1, time.Minute)
	busy := mustAdmit(t, h, "10.0.0.1", false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hash with a busy slot: %v, want the context's deadline", err)
	}
	if h.Pending() != 1 {
		t.Errorf("a canceled caller kept its queue place: %d pending, want the busy one", h.Pending())
	}
	h.finish(busy)
	if _, err := h.Hash(context.Background(), "x"); err != nil {
		t.Fatalf("hash with a free slot: %v", err)
	}
	if h.busy != 0 || h.running != 0 {
		t.Errorf("after the hash: busy %d, running %s", h.busy, h.running)
	}
}

// Admission is by expected wait: a client's jobs are admitted while the
// work ahead of them drains within MaxWait, then refused with Retry-After =
// the expected wait; another address still gets in with a short wait, and
// round robin serves it before the flood's next job (API.md §0.5.5).
func TestHasherExpectedWaitAndFairShare(t *testing.T) {
	t.Parallel()
	h := testHasher(1, 5*time.Second)
	running := mustAdmit(t, h, "10.0.0.1", false)
	if !granted(running) {
		t.Fatal("first job did not get the free slot")
	}
	var flood []*job
	for i := 1; i <= 5; i++ { // waits 1 s … 5 s
		flood = append(flood, mustAdmit(t, h, "10.0.0.1", false))
	}
	_, err := h.admit("10.0.0.1", false, 4, 0, 0) // would wait 6 s
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindUnavailable || e.RetryAfter != 6*time.Second {
		t.Fatalf("6th queued job of one address: %v (retry after %v), want 503 after 6 s", err, e)
	}
	if got := h.waitFor("10.0.0.2"); got != 2*time.Second {
		t.Errorf("another address would wait %s, want 2 s (the running job and one of the flood)", got)
	}
	other := mustAdmit(t, h, "10.0.0.2", false)

	h.finish(running)
	if !granted(flood[0]) || granted(other) {
		t.Fatal("after the first job: want the flood's next (queued first)")
	}
	h.finish(flood[0])
	if !granted(other) || granted(flood[1]) {
		t.Fatal("round robin: the other address must come before the flood's third job")
	}
	h.finish(other)
	for i, j := range flood[1:] {
		if !granted(j) {
			t.Fatalf("flood job %d not served in order", i+1)
		}
		h.finish(j)
	}
	if h.Pending() != 0 || h.running != 0 {
		t.Errorf("drained: %d pending, running %s", h.Pending(), h.running)
	}
}

// Bulk work (an import's hashing) is never refused for load and runs only
// when no interactive job waits; interactive admission ignores queued bulk jobs.
func TestHasherBulkAfterInteractive(t *testing.T) {
	t.Parallel()
	h := testHasher(1, 2*time.Second)
	running := mustAdmit(t, h, "", true)
	var bulk []*job
	for range 10 {
		bulk = append(bulk, mustAdmit(t, h, "", true))
	}
	if got := h.waitFor("10.0.0.1"); got != time.Second {
		t.Errorf("login behind 10 queued bulk jobs would wait %s, want 1 s (only the running one)", got)
	}
	login := mustAdmit(t, h, "10.0.0.1", false)
	h.finish(running)
	if !granted(login) || granted(bulk[0]) {
		t.Fatal("the login must get the slot before queued bulk work")
	}
	h.finish(login)
	for i, j := range bulk {
		if !granted(j) {
			t.Fatalf("bulk job %d not served FIFO", i)
		}
		h.finish(j)
	}
}

// The moving average follows measured hashes of each cost; a cost never
// measured is scaled from BCRYPT_COST's, never from cheap hashes (whose
// fixed overhead would inflate it).
func TestHasherEstimateFollowsMeasurements(t *testing.T) {
	t.Parallel()
	h := testHasher(1, time.Minute)
	h.cost, h.avg = 12, map[int]float64{} // BCRYPT_COST 12, nothing measured yet
	measure := func(cost int, took time.Duration) {
		h.release(mustAdmit(t, h, "", false), took, cost)
	}
	for range 20 {
		measure(12, 250*time.Millisecond)
		measure(4, 5*time.Millisecond) // 20 × the cost-12 time per round
	}
	for range 3 {
		measure(12, 500*time.Millisecond) // the machine got slower
	}
	h.mu.Lock()
	got12, got4, got13 := h.estimate(12), h.estimate(4), h.estimate(13)
	h.mu.Unlock()
	if got12 < 350*time.Millisecond || got12 > 400*time.Millisecond {
		t.Errorf("estimate at cost 12 = %s, want the moving average ≈ 372 ms", got12)
	}
	if got4 != 5*time.Millisecond {
		t.Errorf("estimate at cost 4 = %s, want 5 ms", got4)
	}
	if got13 < 2*got12-time.Millisecond || got13 > 2*got12+time.Millisecond {
		t.Errorf("estimate at cost 13 = %s, want twice cost 12's %s", got13, got12)
	}
}

// A wrong password costs the same whatever the account's hash (issue 21):
// against a cost-4 hash it is padded to a comparison at BCRYPT_COST. The
// equality itself (within 10 %) is measured by BenchmarkWrongPassword, not
// asserted here: a timed assertion flakes on a loaded machine. This test
// only tells the fix from the defect, whose ratio was 1/64 (cost 4 against
// cost 10): the two are measured interleaved, so load drifts on both, and a
// wrong guess against the cheap hash must cost at least half the other.
func TestWrongPasswordTimingEqualAcrossCosts(t *testing.T) {
	h := NewHasher(HasherConfig{Cost: 10, Slots: 1, MaxWait: time.Minute})
	ctx := context.Background()
	cheap, _ := bcrypt.GenerateFromPassword([]byte("right"), 4)
	dear, _ := bcrypt.GenerateFromPassword([]byte("right"), 10)
	timed := func(hash []byte) time.Duration {
		start := time.Now()
		if ok, err := h.Verify(ctx, string(hash), "wrong"); ok || err != nil {
			t.Fatalf("verify: %v %v", ok, err)
		}
		return time.Since(start)
	}
	var cs, ds []time.Duration
	for range 7 {
		cs = append(cs, timed(cheap))
		ds = append(ds, timed(dear))
	}
	slices.Sort(cs)
	slices.Sort(ds)
	c, d := cs[len(cs)/2], ds[len(ds)/2]
	t.Logf("wrong password, median of 7: %s against cost 4, %s against cost 10 (ratio %.3f)", c, d, float64(c)/float64(d))
	if float64(c) < 0.5*float64(d) {
		t.Errorf("a wrong password against a cost-4 hash costs %s, against cost 10 %s: not padded", c, d)
	}
	// A correct password against the cheap hash stays cheap (it is rehashed).
	if ok, _ := h.Verify(ctx, string(cheap), "right"); !ok {
		t.Error("cheap hash did not verify")
	}
}

// BenchmarkWrongPassword is the issue 21 figure: a wrong password against a
// cost-4 hash and against a BCRYPT_COST (10) hash should cost the same
// (make gobench PKGS=./internal/auth/ ARGS='-bench WrongPassword').
func BenchmarkWrongPassword(b *testing.B) {
	h := NewHasher(HasherConfig{Cost: 10, Slots: 1, MaxWait: time.Minute})
	ctx := context.Background()
	for _, cost := range []int{4, 10} {
		hash, _ := bcrypt.GenerateFromPassword([]byte("right"), cost)
		b.Run(fmt.Sprintf("cost%d", cost), func(b *testing.B) {
			for b.Loop() {
				if ok, err := h.Verify(ctx, string(hash), "wrong"); ok || err != nil {
					b.Fatalf("verify: %v %v", ok, err)
				}
			}
		})
	}
}

// Fair shares are kept by IPv4 address and by IPv6 /64 (issue 21).
func TestFairKey(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1":                "10.0.0.1",
		"2001:db8:1:2:aaaa::1":    "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:1:2:3": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":         "2001:db8:1:3::/64",
		"::ffff:10.0.0.1":         "::ffff:10.0.0.1",
		"":                        "",
	} {
		if got := FairKey(in); got != want {
			t.Errorf("FairKey(%q) = %q, want %q", in, got, want)
		}
	}
}

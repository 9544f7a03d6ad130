// Package ratelimit limits how often one user may call an endpoint: one
// token bucket (golang.org/x/time/rate) per user id, in a map of bounded size.
//
// Why this limiter: the lookup it guards (GET /user/by-iin) answers from one
// indexed row, so the cost to stop is not load but enumeration — any token
// could walk every IIN at hundreds of lookups a second. A token bucket per
// user lets a person's real bursts through (an admin checking a list of
// names) while holding a script to the sustained rate; x/time/rate is the
// Go team's implementation, tells how long to wait (Retry-After), and needs
// no shared store. Per instance, in memory: with N instances a user gets N
// times the rate, which still turns hours of enumeration into weeks.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Keyed is a set of token buckets, one per key, all with the same rate and
// burst. At most maxKeys buckets are kept: when full, buckets that have
// refilled completely (idle users, indistinguishable from new ones) are
// dropped first, and if none has, the map is cleared — a burst of distinct
// keys can cost memory only up to the bound, never grow it.
type Keyed struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	maxKeys int
	buckets map[int32]*rate.Limiter
	now     func() time.Time
}

// New returns a limiter admitting perMinute calls a minute per key
// sustained, and bursts of up to burst calls, for at most maxKeys keys.
func New(perMinute, burst, maxKeys int) *Keyed {
	return &Keyed{
		every:   rate.Limit(float64(perMinute) / 60),
		burst:   burst,
		maxKeys: maxKeys,
		buckets: make(map[int32]*rate.Limiter),
		now:     time.Now,
	}
}

// Allow takes one call for key. When refused, retryAfter is how long until
// the next call would be admitted, in whole seconds (at least 1).
func (k *Keyed) Allow(key int32) (ok bool, retryAfter int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	b, found := k.buckets[key]
	if !found {
		if len(k.buckets) >= k.maxKeys {
			k.evict(now)
		}
		b = rate.NewLimiter(k.every, k.burst)
		k.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	delay := r.DelayFrom(now)
	if delay == 0 {
		return true, 0
	}
	r.CancelAt(now) // a refused call does not use up the future
	return false, int(math.Ceil(delay.Seconds()))
}

// evict drops the buckets that are full again; if every bucket is in use,
// it starts over with an empty map (each user then gets one fresh burst).
func (k *Keyed) evict(now time.Time) {
	for key, b := range k.buckets {
		if b.TokensAt(now) >= float64(k.burst) {
			delete(k.buckets, key)
		}
	}
	if len(k.buckets) >= k.maxKeys {
		clear(k.buckets)
	}
}

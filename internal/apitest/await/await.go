// Package await bounds a test's wait for what another goroutine should do,
// so a broken implementation fails the test with a message instead of
// hanging it until the package timeout. It imports nothing of the service,
// so any test package (internal ones included) can use it.
package await

import (
	"sync"
	"testing"
	"time"
)

// Within is how long a test waits for one such event: generous for a
// loaded machine under the race detector, far below the package timeout.
const Within = 30 * time.Second

// Recv returns ch's next value, failing the test if none comes within
// Within; what names the awaited event ("the 6th check to start").
func Recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(Within)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("await: %s did not happen within %s", what, Within)
		panic("unreachable")
	}
}

// Send sends v on ch, failing the test if no one takes it within Within.
func Send[T any](t testing.TB, ch chan<- T, v T, what string) {
	t.Helper()
	timer := time.NewTimer(Within)
	defer timer.Stop()
	select {
	case ch <- v:
	case <-timer.C:
		t.Fatalf("await: %s did not happen within %s", what, Within)
	}
}

// Group waits for wg, failing the test if it is not done within Within.
func Group(t testing.TB, wg *sync.WaitGroup, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	Recv(t, done, what)
}

// Until polls cond until it holds, failing the test if it does not within
// Within.
func Until(t testing.TB, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(Within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("await: %s did not happen within %s", what, Within)
		}
		time.Sleep(time.Millisecond)
	}
}

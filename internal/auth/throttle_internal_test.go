package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"platform/internal/apitest/await"
	"platform/internal/apperr"
	"platform/internal/testdb"
)

// blockedCheck is a password check that reports its start and then waits
// for the test to decide its outcome.
type blockedCheck struct {
	started chan struct{}
	outcome chan bool
}

func newBlockedCheck() *blockedCheck {
	return &blockedCheck{started: make(chan struct{}, 100), outcome: make(chan bool)}
}

func (b *blockedCheck) verify(ctx context.Context) (bool, error) {
	b.started <- struct{}{}
	return <-b.outcome, nil
}

// Checks of one key in flight hold reservations against the key's budget
// of 5: a 6th waits without verifying; a success returns its reservation
// (the waiter then verifies), failures are counted, and once 5 have failed
// the waiter is refused with the lock, never verified.
func TestThrottleReservations(t *testing.T) {
	t.Parallel()
	th := NewThrottle(testdb.New(t))
	ctx := context.Background()
	const key = "000000000123"
	b := newBlockedCheck()
	results := make(chan error, 10)
	check := func() {
		_, err := th.Check(ctx, key, b.verify)
		results <- err
	}
	for range 5 {
		go check()
	}
	for i := range 5 {
		await.Recv(t, b.started, fmt.Sprintf("check %d of 5 to start", i+1))
	}
	go check() // the 6th: must wait
	await.Send(t, b.outcome, true, "a check to take its outcome")
	// A success returned its reservation: the 6th verifies now.
	await.Recv(t, b.started, "the 6th check to start after a success")
	if err := await.Recv(t, results, "the successful check to end"); err != nil {
		t.Fatalf("successful check: %v", err)
	}
	go check() // a 7th waits again (5 in flight)
	for range 5 {
		await.Send(t, b.outcome, false, "a check to take its outcome")
		if err := await.Recv(t, results, "a failed check to end"); err != nil {
			t.Fatalf("failed check: %v", err)
		}
	}
	err := await.Recv(t, results, "the 7th check to be refused") // never verified
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindForbidden ||
		e.Detail != "Превышено число попыток.Повторите через 5 мин." {
		t.Fatalf("7th check: %v, want the lock", err)
	}
	if n := len(b.started); n != 0 {
		t.Errorf("%d checks verified while the budget was used up", n)
	}
	if len(th.keys) != 0 {
		t.Errorf("gates kept after every check ended: %d", len(th.keys))
	}
}

// A check refused for load (or canceled before it ran) is not counted.
func TestThrottleShedIsNotCounted(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	th := NewThrottle(pool)
	shed := apperr.Overloaded(errors.New("queue full"))
	for range 10 {
		if _, err := th.Check(context.Background(), "000000000124", func(context.Context) (bool, error) { return false, shed }); !errors.Is(err, shed) {
			t.Fatalf("check: %v, want the shed error", err)
		}
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM login_attempts`).Scan(&n); err != nil || n != 0 {
		t.Errorf("shed checks counted: %d rows, %v", n, err)
	}
}

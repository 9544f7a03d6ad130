package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A caller waiting for a busy slot gives up when its context ends, and takes
// the slot once it is free.
func TestHasherWaitCanceled(t *testing.T) {
	h := NewHasher(4, 1)
	h.sem <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hash with a busy slot: %v, want the context's deadline", err)
	}
	if h.pending.Load() != 0 {
		t.Errorf("a canceled caller kept its queue place: %d", h.pending.Load())
	}
	<-h.sem
	if _, err := h.Hash(context.Background(), "x"); err != nil {
		t.Fatalf("hash with a free slot: %v", err)
	}
}

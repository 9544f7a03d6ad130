package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"

	"platform/internal/apperr"
)

// DefaultOpTimeout is S3_OP_TIMEOUT's default: how long the store may go
// without answering during one operation.
const DefaultOpTimeout = 10 * time.Second

// storeRetryAfter is the Retry-After of the 503 answered while the store
// cannot be reached.
const storeRetryAfter = 5 * time.Second

// errStoreTimeout is the cause of an operation's context when the store
// did not answer within the operation timeout.
var errStoreTimeout = errors.New("storage: the store did not answer within S3_OP_TIMEOUT")

// Unavailable reports whether err is the store being unreachable or not
// answering in time (the 503 made by storeDown).
func Unavailable(err error) bool {
	e, ok := apperr.As(err)
	return ok && e.Down == "store"
}

// storeDown is the 503 of §0.4 for a store that cannot be reached: the
// client retries after storeRetryAfter, the edge logs "store unavailable"
// once per burst, and the metrics count it under "store_down".
func storeDown(op string, err error) error {
	return apperr.Down("store", storeRetryAfter, fmt.Errorf("storage: %s: %w", op, err))
}

// unreachable reports whether err is a transport failure or a server-side
// failure of the store (refused, reset, timed out, a 5xx such as SlowDown
// or a proxy's 502): a condition to retry after, not a bug or a
// misconfiguration (AccessDenied, NoSuchBucket stay 500s).
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	if minio.ToErrorResponse(err).StatusCode >= 500 {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// opClock is the deadline of one store operation, counted only while the
// operation waits on the store: it is paused while the caller works (reading
// the client's upload, writing a download to the client, running a Walk
// callback) and restarted on each step of progress, so a slow client never
// trips it but a store that stops answering does, after the timeout.
type opClock struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	d      time.Duration
	mu     sync.Mutex
	t      *time.Timer
}

func startClock(parent context.Context, d time.Duration) *opClock {
	if d <= 0 {
		d = DefaultOpTimeout
	}
	ctx, cancel := context.WithCancelCause(parent)
	c := &opClock{ctx: ctx, cancel: cancel, d: d}
	c.t = time.AfterFunc(d, func() { cancel(errStoreTimeout) })
	return c
}

// pause stops the clock; resume starts it again from zero (also used as
// "progress was made").
func (c *opClock) pause() {
	c.mu.Lock()
	c.t.Stop()
	c.mu.Unlock()
}

func (c *opClock) resume() {
	c.mu.Lock()
	c.t.Reset(c.d)
	c.mu.Unlock()
}

// stop ends the operation and releases its context.
func (c *opClock) stop() {
	c.pause()
	c.cancel(context.Canceled)
}

// fail maps an operation's error: the caller's context ended (the client
// went away) → that context's error, as is; the clock ran out or the
// store is unreachable → the store's 503; anything else → other(err).
func (c *opClock) fail(parent context.Context, op string, err error, other func(error) error) error {
	if perr := parent.Err(); perr != nil {
		return fmt.Errorf("storage: %s: %w", op, perr)
	}
	if cause := context.Cause(c.ctx); errors.Is(cause, errStoreTimeout) {
		return storeDown(op, fmt.Errorf("%w (%s): %w", errStoreTimeout, c.d, err))
	}
	if unreachable(err) {
		return storeDown(op, err)
	}
	return other(err)
}

// explain adds to err that the clock ran out, when it did, for a log line.
func (c *opClock) explain(err error) error {
	if errors.Is(context.Cause(c.ctx), errStoreTimeout) {
		return fmt.Errorf("%w (%s): %w", errStoreTimeout, c.d, err)
	}
	return err
}

// progress restarts the clock as minio-go sends a part's bytes (its
// PutObjectOptions.Progress is told of every read of the part), so a part
// that moves slowly but steadily is not cut, while a stalled one is.
type progress struct{ c *opClock }

func (p progress) Read(b []byte) (int, error) {
	p.c.resume()
	return len(b), nil
}

// pausedReader pauses the clock while the caller's source is read (the
// client's upload), so only the store's time counts.
type pausedReader struct {
	r io.Reader
	c *opClock
}

func (p *pausedReader) Read(b []byte) (int, error) {
	p.c.pause()
	defer p.c.resume()
	return p.r.Read(b)
}

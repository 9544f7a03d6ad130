package web

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"platform/internal/apperr"
)

// burstWindow is how long one "database unavailable" warning stands for
// every later failure: an outage fails thousands of requests per second,
// and the operator needs one line per burst, with the count.
const burstWindow = 10 * time.Second

// burstLog rate-limits one kind of warning (burstLogs: one per dependency, per server).
type burstLog struct {
	mu         sync.Mutex
	next       time.Time
	suppressed int
}

// allow reports whether a line may be written now, and how many were
// suppressed since the previous one.
func (b *burstLog) allow(now time.Time) (bool, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.next) {
		b.suppressed++
		return false, 0
	}
	n := b.suppressed
	b.next, b.suppressed = now.Add(burstWindow), 0
	return true, n
}

// burstLogs are one burstLog per dependency named by apperr.Down.
type burstLogs struct {
	mu sync.Mutex
	m  map[string]*burstLog
}

func (b *burstLogs) of(dependency string) *burstLog {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.m[dependency]
	if l == nil {
		if b.m == nil {
			b.m = map[string]*burstLog{}
		}
		l = &burstLog{}
		b.m[dependency] = l
	}
	return l
}

// logDown warns that a dependency (apperr.Down: "database", "store") is unavailable,
// once per burst of failures, with how many were suppressed since.
func logDown(r *http.Request, e *apperr.Error) {
	ri := infoFrom(r.Context())
	if ri == nil || ri.down == nil {
		return
	}
	if ok, suppressed := ri.down.of(e.Down).allow(time.Now()); ok {
		Logger(r.Context()).Warn(e.Down+" unavailable; answering 503 (one line per 10 s)",
			"dependency", e.Down, "method", r.Method, "route", routePattern(r),
			"error", e.Err, "suppressed", suppressed)
	}
}

// BodyTimeouts bound how slowly a client may send a request body, so a
// trickling client cannot hold a connection (and a file descriptor) for
// minutes. The zero value of a field takes its default.
type BodyTimeouts struct {
	// JSON is the time from the request's arrival by which a body that is
	// not multipart must be read whole (default 10 s; JSON bodies are small).
	JSON time.Duration
	// UploadGrace is the head start of a multipart upload (default 10 s).
	UploadGrace time.Duration
	// UploadMinRate is the average transfer rate, in bytes per second, an
	// upload must keep after its grace (default 1 KiB/s).
	UploadMinRate int64
}

func (t BodyTimeouts) withDefaults() BodyTimeouts {
	if t.JSON <= 0 {
		t.JSON = 10 * time.Second
	}
	if t.UploadGrace <= 0 {
		t.UploadGrace = 10 * time.Second
	}
	if t.UploadMinRate <= 0 {
		t.UploadMinRate = 1 << 10
	}
	return t
}

// BodyDeadlines puts a read deadline on every request body through
// http.ResponseController: a fixed one for JSON and form bodies, and for
// multipart uploads one that moves with the bytes received (the next byte is
// due by start + grace + received/rate), refreshed before each read. A client
// that falls behind gets 408 and its connection is closed; each cut-off is
// logged with the running count.
func BodyDeadlines(t BodyTimeouts) func(http.Handler) http.Handler {
	t = t.withDefaults()
	var cut atomic.Int64
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody {
				next.ServeHTTP(w, r)
				return
			}
			b := &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(w), start: time.Now()}
			if strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/") {
				b.grace, b.rate = t.UploadGrace, t.UploadMinRate
			} else {
				b.fixed = b.start.Add(t.JSON)
			}
			b.onCut = func() {
				Logger(r.Context()).Warn("slow request body cut off",
					"method", r.Method, "path", r.URL.Path, "bytes", b.n,
					"duration_ms", time.Since(b.start).Milliseconds(), "cut_total", cut.Add(1))
			}
			r.Body = b
			next.ServeHTTP(w, r)
		})
	}
}

// deadlineBody is a request body read under BodyDeadlines' rule. The
// deadline is set for each Read and lifted when it returns: between reads
// (the handler writing to disk, querying) the client is not on the clock,
// and the connection's background read, which starts once the body is
// consumed and notices a client going away, never inherits a deadline
// (its timing out would cancel the request's context).
type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	fixed time.Time     // non-multipart: the whole body's deadline
	grace time.Duration // multipart: head start …
	rate  int64         // … and minimum average bytes per second
	n     int64
	cut   bool
	onCut func()
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	deadline := b.fixed
	if deadline.IsZero() {
		deadline = b.start.Add(b.grace + time.Duration(b.n)*time.Second/time.Duration(b.rate))
	}
	// Not every ResponseWriter supports deadlines (e.g. HTTP/2 in tests); then there is none.
	_ = b.rc.SetReadDeadline(deadline)
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		if !b.cut {
			b.cut = true
			b.onCut()
		}
		return n, &apperr.Error{Kind: apperr.KindTimeout, Detail: "Request Timeout", Err: err}
	}
	_ = b.rc.SetReadDeadline(time.Time{})
	if err != nil && err != io.EOF && !errors.Is(err, http.ErrBodyReadAfterClose) {
		// A body whose transfer encoding is broken (a malformed chunk, a
		// connection cut mid-body) is the client's fault: 400, whatever
		// the handler reading it, never a 500 with an ERROR line (issue 21).
		return n, &apperr.Error{Kind: apperr.KindBadRequest, Detail: ErrBodyUnreadable, Err: err}
	}
	return n, err
}

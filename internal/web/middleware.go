package web

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
)

type ctxKey int

const (
	requestKey ctxKey = iota
)

// requestInfo is what the edge knows about a request; auth fills UserID after
// the access log has been set up, so the log line can carry it.
type requestInfo struct {
	id       string
	clientIP string
	https    bool
	userID   int32
	shed     string // why WriteError answered 503, for the metrics
	route    string // Route's answer, once the handler returned
	rec      *recorder
	base     *slog.Logger
	logOnce  sync.Once
	log      *slog.Logger // base with the request id, made on first use
	down     *burstLogs   // the server's "<dependency> unavailable" limiters (apperr.Down)
}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestKey).(*requestInfo)
	return ri
}

var discard = slog.New(slog.DiscardHandler)

// Logger is the request-scoped logger (request id), or a discard logger
// outside a request. It is made on first use: most requests log only their
// access line, which Edge writes without it.
func Logger(ctx context.Context) *slog.Logger {
	ri := infoFrom(ctx)
	if ri == nil || ri.base == nil {
		return discard
	}
	ri.logOnce.Do(func() { ri.log = ri.base.With("request_id", ri.id) })
	return ri.log
}

// ClientIP is the client address Edge resolved (X-Forwarded-For believed
// only from trusted proxies), or "" outside a request; the bcrypt queue
// shares its slots fairly by it (API.md §0.5.5).
func ClientIP(ctx context.Context) string {
	if ri := infoFrom(ctx); ri != nil {
		return ri.clientIP
	}
	return ""
}

// SetUserID records the authenticated user for the access log.
func SetUserID(ctx context.Context, id int32) {
	if ri := infoFrom(ctx); ri != nil {
		ri.userID = id
	}
}

// ShedReason is the reason of the 503 WriteError answered for this request
// ("" when none, or outside a request).
func ShedReason(ctx context.Context) string {
	if ri := infoFrom(ctx); ri != nil {
		return ri.shed
	}
	return ""
}

// ResponseStatus is the status the handlers wrote so far (200 once a body
// went out without one), 0 before anything was written or outside a request.
func ResponseStatus(ctx context.Context) int {
	if ri := infoFrom(ctx); ri != nil && ri.rec != nil {
		return ri.rec.status
	}
	return 0
}

// Edge is the outermost middleware: it assigns the request id, resolves the
// client address and scheme (believing X-Forwarded-* only from trusted
// proxies), records the response's status and size (ResponseStatus), and
// logs every request once when it ends. The log names the chi route pattern
// ("/user/by-iin/{iin}"), never the raw path, whose segments carry IINs and
// file names; a request no route matched is "unmatched".
//
// It runs on every request, so it allocates little: one requestInfo with
// its recorder, the context value, the request copy. The request logger and
// the access line's attributes are built only when something logs.
func Edge(log *slog.Logger, trusted []netip.Prefix) func(http.Handler) http.Handler {
	down := &burstLogs{}
	ids := newRequestIDs()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ri := &requestInfo{id: ids.next(r.Header.Get("X-Request-Id")), down: down, base: log}
			peer := peerAddr(r.RemoteAddr)
			ri.clientIP = peer.String()
			ri.https = r.TLS != nil
			if len(trusted) > 0 && peer.IsValid() && contains(trusted, peer) {
				if ip, ok := forwardedFor(r.Header.Values("X-Forwarded-For"), trusted); ok {
					ri.clientIP = ip
				}
				proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
				if strings.EqualFold(strings.TrimSpace(proto), "https") {
					ri.https = true
				}
			}
			w.Header()["X-Request-Id"] = []string{ri.id}

			ri.rec = &recorder{ResponseWriter: w}
			ctx := context.WithValue(r.Context(), requestKey, ri)
			next.ServeHTTP(ri.rec, r.WithContext(ctx))

			status := ri.rec.status
			if status == 0 {
				status = http.StatusOK
			}
			level := slog.LevelInfo
			if status >= 500 && status != http.StatusServiceUnavailable {
				level = slog.LevelError
			}
			if !log.Enabled(ctx, level) {
				return
			}
			attrs := make([]slog.Attr, 0, 9)
			attrs = append(attrs, slog.String("request_id", ri.id),
				slog.String("method", r.Method), slog.String("route", Route(r)), slog.Int("status", status),
				slog.Int64("bytes", ri.rec.bytes), slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.String("client_ip", ri.clientIP))
			if ri.userID != 0 {
				attrs = append(attrs, slog.Int("user_id", int(ri.userID)))
			}
			log.LogAttrs(ctx, level, "request", attrs...)
		})
	}
}

// recorder is the response writer below Edge: it remembers the status and
// counts the body bytes. ReadFrom keeps net/http's sendfile path for
// downloads (http.ServeContent copies with io.Copy); Unwrap keeps
// http.ResponseController (flushes, deadlines) working.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, src)
	w.bytes += n
	return n, err
}

func (w *recorder) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestIDs makes the ids of requests that bring none: a random prefix per
// process and a counter, 24 hex digits. Unique across instances without a
// random read per request; an id is a correlation handle, not a secret.
type requestIDs struct {
	prefix [16]byte
	n      atomic.Uint32
}

func newRequestIDs() *requestIDs {
	var ids requestIDs
	var b [8]byte
	_, _ = rand.Read(b[:])
	hex.Encode(ids.prefix[:], b[:])
	return &ids
}

// next keeps a sane incoming X-Request-ID (so a proxy's id follows the
// request) and makes one otherwise.
func (ids *requestIDs) next(in string) string {
	if n := len(in); n > 0 && n <= 64 {
		ok := true
		for i := 0; i < n; i++ {
			if c := in[i]; c <= 0x20 || c >= 0x7f {
				ok = false
				break
			}
		}
		if ok {
			return in
		}
	}
	var b [24]byte
	copy(b[:16], ids.prefix[:])
	var c [4]byte
	binary.BigEndian.PutUint32(c[:], ids.n.Add(1))
	hex.Encode(b[16:], c[:])
	return string(b[:])
}

func peerAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		a, _ := netip.ParseAddr(remote)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor walks X-Forwarded-For from the right, skipping trusted hops:
// the first untrusted address is the client. Entries left of it could be forged.
func forwardedFor(values []string, trusted []netip.Prefix) (string, bool) {
	var hops []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			return "", false
		}
		a = a.Unmap()
		if i == 0 || !contains(trusted, a) {
			return a.String(), true
		}
	}
	return "", false
}

// SecurityHeaders sets the headers API.md §0.10 puts on every response,
// before anything else runs, so errors, 404s, preflights and 500s carry them.
// The value slices are shared by every response (keys already canonical):
// net/http only reads them, and Header.Set or Add replace or copy them.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		h["X-Frame-Options"] = frameDeny
		h["Referrer-Policy"] = noReferrer
		h["Content-Security-Policy"] = csp
		if ri := infoFrom(r.Context()); ri != nil && ri.https {
			h["Strict-Transport-Security"] = hsts
		}
		next.ServeHTTP(w, r)
	})
}

var (
	nosniff    = []string{"nosniff"}
	frameDeny  = []string{"DENY"}
	noReferrer = []string{"no-referrer"}
	csp        = []string{"default-src 'none'; frame-ancestors 'none'"}
	hsts       = []string{"max-age=31536000; includeSubDomains"}
)

// Recover turns a panic into a logged 500 with the usual JSON body, so the
// connection stays usable and the client can read the error.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			Logger(r.Context()).Error("panic in handler",
				"method", r.Method, "route", routePattern(r), "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			if ResponseStatus(r.Context()) != 0 {
				return // headers already went out; nothing sensible to add
			}
			_ = JSON(w, http.StatusInternalServerError, Detail{Detail: "Internal Server Error"})
		}()
		next.ServeHTTP(w, r)
	})
}

// StripSlash routes "/x/" as "/x" (API.md §0.3), except under the prefixes
// whose paths are taken literally (file names). Other paths are routed on
// their decoded form, as Starlette does: chi would otherwise route on the
// escaped path whenever it differs ("/tests/%31" must be "/tests/1").
func StripSlash(literal ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			path := r.URL.Path
			if rc := chi.RouteContext(r.Context()); rc != nil && !hasAnyPrefix(path, literal) {
				if len(path) > 1 && strings.HasSuffix(path, "/") {
					path = path[:len(path)-1]
				}
				rc.RoutePath = path
			}
			next.ServeHTTP(w, r)
		})
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

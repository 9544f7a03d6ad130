package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
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
	log      *slog.Logger
	dbDown   *burstLog // the server's "database unavailable" warning limiter
}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestKey).(*requestInfo)
	return ri
}

var discard = slog.New(slog.DiscardHandler)

// Logger is the request-scoped logger (request id, client ip), or a discard
// logger outside a request.
func Logger(ctx context.Context) *slog.Logger {
	if ri := infoFrom(ctx); ri != nil && ri.log != nil {
		return ri.log
	}
	return discard
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

// Edge is the outermost middleware: it assigns the request id, resolves the
// client address and scheme (believing X-Forwarded-* only from trusted
// proxies), and logs every request once when it ends. The log names the
// chi route pattern ("/user/by-iin/{iin}"), never the raw path, whose
// segments carry IINs and file names; a request no route matched is
// "unmatched".
func Edge(log *slog.Logger, trusted []netip.Prefix) func(http.Handler) http.Handler {
	dbDown := &burstLog{}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ri := &requestInfo{id: requestID(r.Header.Get("X-Request-ID")), dbDown: dbDown}
			peer := peerAddr(r.RemoteAddr)
			ri.clientIP = peer.String()
			ri.https = r.TLS != nil
			if peer.IsValid() && contains(trusted, peer) {
				if ip, ok := forwardedFor(r.Header.Values("X-Forwarded-For"), trusted); ok {
					ri.clientIP = ip
				}
				proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
				if strings.EqualFold(strings.TrimSpace(proto), "https") {
					ri.https = true
				}
			}
			ri.log = log.With("request_id", ri.id)
			w.Header().Set("X-Request-ID", ri.id)

			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), requestKey, ri)))

			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			attrs := []any{
				"method", r.Method, "route", routePattern(r), "status", status,
				"bytes", ww.BytesWritten(), "duration_ms", float64(time.Since(start).Microseconds()) / 1000,
				"client_ip", ri.clientIP,
			}
			if ri.userID != 0 {
				attrs = append(attrs, "user_id", ri.userID)
			}
			level := slog.LevelInfo
			if status >= 500 && status != http.StatusServiceUnavailable {
				level = slog.LevelError
			}
			ri.log.Log(r.Context(), level, "request", attrs...)
		})
	}
}

// requestID keeps a sane incoming X-Request-ID (so a proxy's id follows the
// request) and generates one otherwise.
func requestID(in string) string {
	if n := len(in); n > 0 && n <= 64 {
		ok := true
		for _, c := range in {
			if c <= 0x20 || c >= 0x7f {
				ok = false
				break
			}
		}
		if ok {
			return in
		}
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		if ri := infoFrom(r.Context()); ri != nil && ri.https {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

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
			if ww, ok := w.(middleware.WrapResponseWriter); ok && ww.Status() != 0 {
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

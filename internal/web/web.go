// Package web is the HTTP edge shared by every domain: the handler adapter,
// JSON encoding, request-body reading in FastAPI's validation shape, the one
// function that turns errors into responses, and the global middleware.
package web

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"platform/internal/apperr"
)

// HandlerFunc is an endpoint that reports failure by returning an error.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h to http.HandlerFunc; any error goes to WriteError, so a
// handler cannot write half a response and forget to return. Path
// parameters and the query string pass CheckInput first.
func Handle(h HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := CheckInput(r)
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			WriteError(w, r, err)
		}
	}
}

// JSON writes v as the JSON response with the given status. It marshals
// first, so an encoding failure becomes a clean 500 instead of a torn body.
func JSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("web: encode response: %w", err)
	}
	w.Header()["Content-Type"] = jsonType
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return nil
}

// WriteParts writes a JSON body given as parts, already encoded (the tree
// cache's fragments with a user's results spliced in), with status 200 and a
// Content-Length. A body up to gatherMax is gathered into one pooled buffer
// and written with one Write, which net/http passes to the socket as one
// write rather than one per part; a larger body streams through a pooled
// buffered writer, so memory stays bounded whatever its size.
func WriteParts(w http.ResponseWriter, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	h := w.Header()
	h["Content-Type"] = jsonType
	h["Content-Length"] = []string{strconv.Itoa(n)}
	w.WriteHeader(http.StatusOK)
	if len(parts) == 1 {
		_, _ = w.Write(parts[0]) // one write: net/http buffers a small one, passes a large one through
		return nil
	}
	if n <= gatherMax {
		buf := gathers.Get().(*[]byte)
		body := *buf
		for _, p := range parts {
			body = append(body, p...)
		}
		_, _ = w.Write(body) // an error means the client left; nothing more to say to it
		// A buffer that grew past gatherMax is left to the collector, not kept.
		if cap(body) <= gatherMax {
			*buf = body[:0]
			gathers.Put(buf)
		}
		return nil
	}
	bw := Writer(w)
	for _, p := range parts {
		if _, err := bw.Write(p); err != nil {
			break // the client left; nothing more to say to it
		}
	}
	_ = bw.Flush()
	ReleaseWriter(bw)
	return nil
}

// gatherMax bounds the bodies WriteParts gathers into one buffer; a pooled
// buffer never grows past it.
const gatherMax = 512 << 10

// jsonType is the Content-Type value of every JSON response, shared (net/http
// only reads header values).
var jsonType = []string{"application/json"}

// gathers are WriteParts' body buffers, writers the pooled buffered writers
// (Writer).
var (
	gathers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}
)

// OK writes v with status 200, the success status of every endpoint but one.
func OK(w http.ResponseWriter, v any) error { return JSON(w, http.StatusOK, v) }

// Detail is the {"detail": "…"} body used by errors and by several successes.
type Detail struct {
	Detail string `json:"detail"`
}

// statusOf is the one Kind → status table.
var statusOf = map[apperr.Kind]int{
	apperr.KindInternal:        http.StatusInternalServerError,
	apperr.KindBadRequest:      http.StatusBadRequest,
	apperr.KindUnauthenticated: http.StatusUnauthorized,
	apperr.KindForbidden:       http.StatusForbidden,
	apperr.KindNotFound:        http.StatusNotFound,
	apperr.KindTooLarge:        http.StatusRequestEntityTooLarge,
	apperr.KindUnavailable:     http.StatusServiceUnavailable,
	apperr.KindTooManyRequests: http.StatusTooManyRequests,
	apperr.KindTimeout:         http.StatusRequestTimeout,
}

// RetryAfterSeconds is a 503's Retry-After: the expected wait rounded up
// to whole seconds, at least 1.
func RetryAfterSeconds(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}

// WriteError is the only function that turns an error into a response
// (API.md §0.4). Application errors keep their status and detail; anything
// else is logged once and answered with a generic 500.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var verr *apperr.ValidationError
	if errors.As(err, &verr) {
		_ = JSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": verr.Issues})
		return
	}
	_, isApp := apperr.As(err)
	if ctxErr := r.Context().Err(); ctxErr != nil && (errors.Is(err, ctxErr) || !isApp) {
		// The client went away (net/http cancels the context when its
		// connection breaks, so a failed body read lands here too, and is not
		// mistaken for the database going away): nothing to answer and
		// nothing to alarm anyone about.
		Logger(r.Context()).Debug("request canceled by client", "error", err)
		w.WriteHeader(499)
		return
	}
	e, ok := apperr.As(err)
	if !ok {
		e = &apperr.Error{Kind: apperr.KindInternal, Detail: "Internal Server Error", Err: err}
	}
	status := statusOf[e.Kind]
	switch {
	case e.Down != "":
		// A dependency is away (the database's errors say so themselves):
		// the client may retry, and one warning per burst is enough.
		logDown(r, e)
	case e.Kind == apperr.KindUnavailable:
		// Overload is the designed answer to a burst, not a fault: warn, once.
		Logger(r.Context()).Warn("request shed",
			"method", r.Method, "route", routePattern(r), "status", status, "error", err)
	case status >= 500:
		Logger(r.Context()).Error("request failed",
			"method", r.Method, "route", routePattern(r), "status", status, "error", err)
	case e.Err != nil:
		Logger(r.Context()).Debug("request refused", "status", status, "error", err)
	}
	if e.Kind == apperr.KindUnavailable || e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds(e.RetryAfter)))
	}
	if e.Kind == apperr.KindUnavailable {
		if ri := infoFrom(r.Context()); ri != nil {
			ri.shed = e.Reason
		}
	}
	if e.Challenge {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	_ = JSON(w, status, Detail{Detail: e.Detail})
}

// Route is routePattern for code that runs once the handler returned (the
// metrics, the access log): the pattern is final then, and it is joined
// once per request.
func Route(r *http.Request) string {
	ri := infoFrom(r.Context())
	if ri == nil {
		return routePattern(r)
	}
	if ri.route == "" {
		ri.route = routePattern(r)
	}
	return ri.route
}

// routePattern is the matched chi route pattern, or "unmatched": logs never
// carry the raw path, whose segments hold IINs.
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return "unmatched"
}

// NotFound answers unknown paths (API.md §0.3).
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, apperr.NotFound("Not Found"))
}

// MethodNotAllowed answers a known path with a wrong method, listing the
// methods the path does answer in Allow (API.md §0.3). chi reaches this
// handler only from the router whose tree matched the path, but does not
// pass a custom handler its list of methods; so the list is looked up in a
// flat copy of the whole route tree (every endpoint chi.Walk reports, by its
// full pattern), built on first use, once every route is registered.
func MethodNotAllowed(routes chi.Routes) http.HandlerFunc {
	flat := sync.OnceValue(func() *chi.Mux {
		m := chi.NewRouter()
		_ = chi.Walk(routes, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			m.Method(method, pattern, http.NotFoundHandler())
			return nil
		})
		return m
	})
	return func(w http.ResponseWriter, r *http.Request) {
		path := trimmedPath(r)
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
			http.MethodPatch, http.MethodDelete} {
			// A mounted router's "/" route has the pattern "/x/" and answers "/x".
			if flat().Match(chi.NewRouteContext(), m, path) || flat().Match(chi.NewRouteContext(), m, path+"/") {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
		}
		_ = JSON(w, http.StatusMethodNotAllowed, Detail{Detail: "Method Not Allowed"})
	}
}

// trimmedPath is the URL's path without one trailing slash.
func trimmedPath(r *http.Request) string {
	path := r.URL.Path
	if len(path) > 1 {
		path = strings.TrimSuffix(path, "/")
	}
	return path
}

// PathID reads an integer path parameter (API.md §0.3): not a decimal integer
// → 422 int_parsing; outside the 32-bit range → 0, which matches no row.
func PathID(r *http.Request, name string) (int32, error) {
	raw := chi.URLParam(r, name)
	id, ok := ParseInt32(strings.TrimSpace(raw))
	if !ok {
		return 0, apperr.Invalid(apperr.Issue{
			Type: "int_parsing", Loc: []any{"path", name},
			Msg:   "Input should be a valid integer, unable to parse string as an integer",
			Input: raw,
		})
	}
	return id, nil
}

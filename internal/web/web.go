// Package web is the HTTP edge shared by every domain: the handler adapter,
// JSON encoding, request-body reading in FastAPI's validation shape, the one
// function that turns errors into responses, and the global middleware.
package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"platform/internal/apperr"
)

// HandlerFunc is an endpoint that reports failure by returning an error.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h to http.HandlerFunc; any error goes to WriteError, so a
// handler cannot write half a response and forget to return.
func Handle(h HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
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
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return nil
}

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
	apperr.KindTimeout:         http.StatusRequestTimeout,
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
	down := !ok && databaseDown(err)
	switch {
	case down:
		// The database is away (or a commit's outcome is unknown): the client
		// may retry, and one warning per burst is enough for the operator.
		e = apperr.Overloaded(err)
	case !ok:
		e = &apperr.Error{Kind: apperr.KindInternal, Detail: "Internal Server Error", Err: err}
	}
	status := statusOf[e.Kind]
	switch {
	case down:
		logDatabaseDown(r, err)
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
	if e.Kind == apperr.KindUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if e.Challenge {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	_ = JSON(w, status, Detail{Detail: e.Detail})
}

func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return r.URL.Path
}

// NotFound answers unknown paths (API.md §0.3).
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, apperr.NotFound("Not Found"))
}

// MethodNotAllowed answers a known path with a wrong method, listing the
// methods the path does answer in Allow (API.md §0.3). chi drops that list
// when a custom handler is set, so it is recomputed from the route tree.
func MethodNotAllowed(routes chi.Routes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Inside a mounted router RoutePath is the sub-path: match the full one.
		methodNotAllowed(w, allowed(routes, trimmedPath(r)))
	}
}

// RouteFirst answers a known path with a wrong method (405) before any
// route's middleware runs: Starlette routes before FastAPI resolves
// dependencies, so a wrong method is 405 even without a token, also where a
// domain puts authentication on a whole sub-router (API.md §0.3).
func RouteFirst(routes chi.Routes) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			path := trimmedPath(r)
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePath != "" {
				path = rc.RoutePath // StripSlash's
			}
			if !matches(routes, r.Method, path) {
				if allow := allowed(routes, path); len(allow) > 0 {
					methodNotAllowed(w, allow)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func methodNotAllowed(w http.ResponseWriter, allow []string) {
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
	}
	_ = JSON(w, http.StatusMethodNotAllowed, Detail{Detail: "Method Not Allowed"})
}

// allowed lists the methods the path answers.
func allowed(routes chi.Routes, path string) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete} {
		if matches(routes, m, path) {
			allow = append(allow, m)
		}
	}
	return allow
}

// matches reports whether a route answers method at path. chi's Match alone
// is not enough: a router mounted at "/x" leaves stubs at "/x" and "/x/"
// that match every method, while the request is really answered by the
// mounted router's "/" route.
func matches(routes chi.Routes, method, path string) bool {
	pattern := routes.Find(chi.NewRouteContext(), method, path)
	if pattern == "" {
		return false
	}
	if routes.Find(chi.NewRouteContext(), http.MethodTrace, path) == "" {
		return true // no stub: no route answers TRACE
	}
	mount := strings.TrimSuffix(pattern, "/") + "/*"
	for _, rt := range routes.Routes() {
		if rt.Pattern == mount && rt.SubRoutes != nil {
			return matches(rt.SubRoutes, method, "/")
		}
	}
	return true
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

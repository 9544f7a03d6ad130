// Package apperr defines the application error: a kind that decides the HTTP
// status and a client-safe detail text. It imports neither net/http nor pgx, so
// every layer can create one; internal/web is the only place that writes it.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error for the client. web.WriteError maps each kind to one status.
type Kind int

// The kinds used by the API (API.md §0.4).
const (
	KindInternal        Kind = iota // 500; Detail is never shown
	KindBadRequest                  // 400: a business rule refused the request
	KindUnauthenticated             // 401
	KindForbidden                   // 403
	KindNotFound                    // 404
	KindTooLarge                    // 413
	KindUnavailable                 // 503 with Retry-After
	KindTooManyRequests             // 429 with Retry-After (a per-user rate limit)
	KindTimeout                     // 408: the client sent its body too slowly
)

// Error is the application error. Detail is safe to show; Err is the cause,
// logged but never serialised.
type Error struct {
	Kind   Kind
	Detail string
	Err    error
	// Challenge asks the edge to add "WWW-Authenticate: Bearer" (401s of §0.5.1).
	Challenge bool
	// RetryAfter is a 503's expected wait (API.md §0.5.5); the edge sends it
	// in whole seconds, at least 1 (also when zero).
	RetryAfter time.Duration
	// Reason names why a 503 was answered (e.g. "db_pool_wait"), for the
	// metrics; never shown to the client.
	Reason string
	// Down names the dependency that could not be reached ("store"), for a
	// 503 made by Down: the edge logs it as that dependency being
	// unavailable, once per burst, instead of one line per request.
	Down string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Detail, e.Err)
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// BadRequest is a 400 with the given detail.
func BadRequest(detail string) *Error { return &Error{Kind: KindBadRequest, Detail: detail} }

// Unauthenticated is a 401 with the given detail; it always carries the Bearer challenge.
func Unauthenticated(detail string) *Error {
	return &Error{Kind: KindUnauthenticated, Detail: detail, Challenge: true}
}

// Forbidden is a 403 with the given detail.
func Forbidden(detail string) *Error { return &Error{Kind: KindForbidden, Detail: detail} }

// NotFound is a 404 with the given detail.
func NotFound(detail string) *Error { return &Error{Kind: KindNotFound, Detail: detail} }

// TooLarge is a 413 with the given detail.
func TooLarge(detail string) *Error { return &Error{Kind: KindTooLarge, Detail: detail} }

// Overloaded is the 503 of API.md §0.4 (pool wait exceeded, bcrypt queue full).
func Overloaded(cause error) *Error {
	return &Error{Kind: KindUnavailable, Detail: "Сервер перегружен, повторите попытку позже", Err: cause}
}

// Down is the 503 of a dependency that cannot be reached or did not answer
// in time (dependency names it: "store"): the client may retry after
// retryAfter, and the reason in the metrics is dependency + "_down". The
// detail is §0.4's, the same as for any other 503.
func Down(dependency string, retryAfter time.Duration, cause error) *Error {
	return &Error{Kind: KindUnavailable, Detail: Overloaded(nil).Detail, Err: cause,
		RetryAfter: retryAfter, Reason: dependency + "_down", Down: dependency}
}

// TooManyRequests is a 429 telling the client to wait retryAfter seconds.
func TooManyRequests(detail string, retryAfter int) *Error {
	return &Error{Kind: KindTooManyRequests, Detail: detail, RetryAfter: time.Duration(retryAfter) * time.Second}
}

// WithReason sets Reason and returns e, for the 503s' call sites.
func (e *Error) WithReason(reason string) *Error {
	e.Reason = reason
	return e
}

// Internal is a 500 whose detail the client still sees (e.g. "Ошибка при сохранении файла");
// the cause is logged.
func Internal(detail string, cause error) *Error {
	return &Error{Kind: KindInternal, Detail: detail, Err: cause}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err is an *Error of the given kind.
func Is(err error, kind Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == kind
}

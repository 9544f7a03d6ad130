// Package server builds the one HTTP handler: global middleware, the
// health endpoints and every domain's routes.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/go-chi/chi/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/storage"
	"platform/internal/web"
)

// Deps is everything the handlers need; run builds it once.
type Deps struct {
	Log            *slog.Logger
	Pool           *db.Pool
	Tokens         *auth.Tokens
	Hasher         *auth.Hasher
	Store          *storage.Store
	PlaceURL       string
	TrustedProxies []netip.Prefix
	// Ready is /readyz's check; nil pings through the pool (tests). run uses a
	// db.Probe, on its own connection, so a busy pool is not "not ready".
	Ready func(context.Context) error
	// Body bounds how slowly request bodies may arrive (zero: defaults).
	Body web.BodyTimeouts
}

// New returns the service's http.Handler.
func New(d Deps) http.Handler {
	r := chi.NewRouter()
	r.Use(
		web.Edge(d.Log, d.TrustedProxies),
		web.BodyDeadlines(d.Body),
		web.SecurityHeaders,
		web.CORS(d.PlaceURL),
		web.Recover,
		// Paths under these prefixes are file names, taken literally (API.md §0.3).
		web.StripSlash("/files/download/", "/static/photos/"),
		web.RouteFirst(r),
	)
	r.NotFound(web.NotFound)
	r.MethodNotAllowed(web.MethodNotAllowed(r))

	authRepo := auth.NewRepo(d.Pool)
	authn := auth.Authenticate(d.Tokens, authRepo)
	throttle := auth.NewThrottle(d.Pool)

	r.Get("/", web.Handle(welcome))
	r.Get("/healthz", web.Handle(healthz))
	ready := d.Ready
	if ready == nil {
		ready = d.Pool.Ping
	}
	r.Get("/readyz", web.Handle(readyz(ready)))
	r.Mount("/auth", auth.NewHandler(authRepo, d.Tokens, d.Hasher, throttle).Routes(authn))

	mountDomains(r, d, authn, throttle)
	return r
}

func welcome(w http.ResponseWriter, r *http.Request) error {
	return web.OK(w, map[string]string{"message": "Добро пожаловать на платформу!"})
}

type status struct {
	Status string `json:"status"`
}

func healthz(w http.ResponseWriter, r *http.Request) error {
	return web.OK(w, status{Status: "ok"})
}

// readyz answers whether the instance can serve: the database reachable and
// its schema current. It says nothing about load (a busy instance is ready).
func readyz(check func(context.Context) error) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := check(ctx); err != nil {
			return &apperr.Error{Kind: apperr.KindUnavailable, Detail: "База данных недоступна", Err: err}
		}
		return web.OK(w, status{Status: "ok"})
	}
}

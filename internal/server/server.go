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
	"platform/internal/metrics"
	"platform/internal/storage"
	"platform/internal/web"
)

// Deps is everything the handlers need; run builds it once.
type Deps struct {
	Log            *slog.Logger
	Pool           *db.Pool
	Tokens         *auth.Tokens
	Hasher         *auth.Hasher
	Store          storage.Store
	PlaceURL       string
	TrustedProxies []netip.Prefix
	// Metrics, when set, times every request and gets the pool and bcrypt
	// collectors registered; nil serves without metrics.
	Metrics *metrics.Metrics
}

// New returns the service's http.Handler.
func New(d Deps) http.Handler {
	r := chi.NewRouter()
	observe := func(next http.Handler) http.Handler { return next }
	if d.Metrics != nil {
		observe = d.Metrics.Middleware
		d.Metrics.Register(metrics.PoolCollector(d.Pool.Stat))
		d.Metrics.Register(metrics.BcryptCollectors(d.Hasher.Pending, d.Hasher.Slots())...)
		d.Hasher.ObserveWait(func(w time.Duration) { d.Metrics.BcryptWait.Observe(w.Seconds()) })
	}
	r.Use(
		web.Edge(d.Log, d.TrustedProxies),
		observe,
		web.SecurityHeaders,
		web.CORS(d.PlaceURL),
		web.Recover,
		// Paths under these prefixes are file names, taken literally (API.md §0.3).
		web.StripSlash("/files/download/", "/static/photos/"),
	)
	r.NotFound(web.NotFound)
	r.MethodNotAllowed(web.MethodNotAllowed(r))

	routes(r, d)
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

func readyz(pool *db.Pool) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := pool.Ping(ctx); err != nil {
			return &apperr.Error{Kind: apperr.KindUnavailable, Detail: "База данных недоступна", Err: err, Reason: "db_down"}
		}
		return web.OK(w, status{Status: "ok"})
	}
}

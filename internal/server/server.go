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

	"platform/internal/admin/groups"
	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/jobs"
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
	// Lifetime ends with the server: work detached from its request (an
	// Excel import whose client left) stops then. Nil: such work ends only
	// by itself.
	Lifetime context.Context
	// Jobs is the River job engine (imports, file removals); its workers
	// are registered by New, so it starts after New. Nil: imports fail and
	// deleted files are removed after the commit (tests of other parts).
	Jobs *jobs.Engine
	// Imports: how imports treat new accounts' passwords.
	Imports groups.ImportConfig
	Limits  Limits
	// Ready is /readyz's check; nil pings through the pool (tests). run uses a
	// db.Probe, on its own connection, so a busy pool is not "not ready".
	Ready func(context.Context) error
	// Body bounds how slowly request bodies may arrive (zero: defaults).
	Body web.BodyTimeouts
	// Metrics, when set, times every request and gets the pool and bcrypt
	// collectors registered; nil serves without metrics.
	Metrics *metrics.Metrics
	// APIDocs serves the OpenAPI document at GET /openapi.json (API_DOCS);
	// off, the path is an unknown one (404).
	APIDocs bool
	// TreeCacheBytes bounds the course-tree cache (TREE_CACHE_MB); 0: catalog.DefaultCacheBytes.
	TreeCacheBytes int
}

// Limits are the per-user caps against abuse (README, "Limits"); a zero
// field takes its default.
type Limits struct {
	MaxSubmissionsPerLesson int // homework submissions per student and lesson (default 20)
	IINLookupsPerMinute     int // sustained GET /user/by-iin rate per user (default 30)
	IINLookupBurst          int // lookups a user may make at once (default 10)
}

// The defaults of Limits, also those of the configuration (API.md §0.1 port additions).
const (
	DefaultMaxSubmissionsPerLesson = 20
	DefaultIINLookupsPerMinute     = 30
	DefaultIINLookupBurst          = 10
)

// maxLookupUsers bounds the lookup limiter's memory (one small bucket per
// user); a college has a few thousand accounts.
const maxLookupUsers = 10000

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxSubmissionsPerLesson, DefaultMaxSubmissionsPerLesson)
	def(&l.IINLookupsPerMinute, DefaultIINLookupsPerMinute)
	def(&l.IINLookupBurst, DefaultIINLookupBurst)
	return l
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
		web.BodyDeadlines(d.Body),
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

// welcomeBody is GET /'s constant answer, encoded once.
var welcomeBody = []byte(`{"message":"Добро пожаловать на платформу!"}`)

func welcome(w http.ResponseWriter, r *http.Request) error {
	return web.WriteParts(w, welcomeBody)
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
			return &apperr.Error{Kind: apperr.KindUnavailable, Detail: "База данных недоступна", Err: err, Reason: "db_down"}
		}
		return web.OK(w, status{Status: "ok"})
	}
}

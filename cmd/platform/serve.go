package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"platform/internal/admin/groups"
	"platform/internal/auth"
	"platform/internal/config"
	"platform/internal/db"
	"platform/internal/jobs"
	"platform/internal/metrics"
	"platform/internal/server"
	"platform/internal/storage"
)

// abortWait bounds how long handlers may take to return once their
// connections are closed at the end of the grace (their reads fail at once).
const abortWait = 5 * time.Second

// orphanSweepEvery is how often the orphan file sweep job runs after the first.
const orphanSweepEvery = time.Hour

// loadConfig reads the configuration from environ merged with ./.env.
func loadConfig(environ []string) (config.Config, error) {
	m, err := config.Environ(environ, ".env")
	if err != nil {
		return config.Config{}, err
	}
	return config.Load(m)
}

// newLogger builds the service logger from LOG_FORMAT and LOG_LEVEL.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(cfg.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve wires every dependency in order, serves until ctx ends, then drains
// in-flight requests and closes the pool.
func serve(ctx context.Context, environ []string, logOut io.Writer) error {
	cfg, err := loadConfig(environ)
	if err != nil {
		return err
	}
	log := newLogger(cfg, logOut)
	log.Info("starting", "version", buildVersion(), "addr", cfg.HTTPAddr,
		"pool_min", cfg.DBPoolSize, "pool_max", cfg.DBPoolSize+cfg.DBMaxOverflow,
		"bcrypt_cost", cfg.BcryptCost, "default_password_cost", cfg.DefaultPasswordCost,
		"login_concurrency", cfg.LoginConcurrency, "login_max_wait", cfg.LoginMaxWait().String())
	setMemoryLimit(cfg, log)

	if cfg.MigrateOnStart {
		if err := db.Migrate(ctx, cfg.DatabaseURL, log); err != nil {
			return err
		}
	}
	pool, err := db.Open(ctx, db.PoolConfig{
		URL:         cfg.DatabaseURL,
		MinConns:    int32(cfg.DBPoolSize),
		MaxConns:    int32(cfg.DBPoolSize + cfg.DBMaxOverflow),
		WaitTimeout: cfg.PoolTimeout(),
	})
	if err != nil {
		return err
	}
	defer pool.Close()

	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	files, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer files.Close()
	store := storage.Observed(files, m.StoreOps)

	hasher := auth.NewHasher(auth.HasherConfig{Cost: cfg.BcryptCost, DefaultCost: cfg.DefaultPasswordCost,
		Slots: cfg.LoginConcurrency, MaxWait: cfg.LoginMaxWait()})
	err = auth.EnsureAdmin(ctx, pool, hasher, auth.BootstrapAdmin{
		IIN: cfg.AdminIIN, Password: cfg.AdminPassword, FullName: cfg.AdminFullName, Phone: cfg.AdminPhone,
	}, log)
	if err != nil {
		return err
	}

	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	go auth.NewThrottle(pool).PurgeEvery(bg, time.Hour, func(n int64, err error) {
		if err != nil {
			log.Warn("purge login attempts", "error", err)
		} else if n > 0 {
			log.Info("purged idle login attempts", "rows", n)
		}
	})

	// lifetime ends once the job engine has stopped on shutdown: an upload
	// still waiting for its import then answers 503 (the import is queued
	// again and finished by another instance, or this one restarted).
	lifetime, endLifetime := context.WithCancel(context.WithoutCancel(ctx))
	defer endLifetime()

	// Background work (imports, file removals, the orphan sweep) runs as
	// River jobs on this database (internal/jobs).
	engine := jobs.New(pool, store, jobs.Config{
		MaxWorkers: cfg.JobWorkers, ImportTimeout: cfg.JobImportTimeout(), RescueAfter: cfg.JobRescueAfter(),
		SweepEvery: orphanSweepEvery, OrphanGrace: cfg.OrphanGrace(), Log: log,
	})

	probe := db.NewProbe(cfg.DatabaseURL)
	defer probe.Close(context.WithoutCancel(ctx))

	handler := server.New(server.Deps{
		Log:            log,
		Pool:           pool,
		Tokens:         auth.NewTokens([]byte(cfg.SecretKey), cfg.TokenTTL()).WithRefreshTTL(cfg.RefreshTTL()),
		Hasher:         hasher,
		Store:          store,
		PlaceURL:       cfg.PlaceURL,
		TrustedProxies: cfg.TrustedPrefixes,
		Lifetime:       lifetime,
		Jobs:           engine,
		Imports:        groups.ImportConfig{Secret: []byte(cfg.SecretKey), UnsafeIINPasswords: cfg.UnsafeIINPasswords},
		Limits: server.Limits{
			MaxSubmissionsPerLesson: cfg.MaxSubmissionsPerLesson,
			IINLookupsPerMinute:     cfg.IINLookupsPerMinute,
			IINLookupBurst:          cfg.IINLookupBurst,
		},
		Ready:          probe.Check,
		Metrics:        m,
		APIDocs:        cfg.APIDocs,
		TreeCacheBytes: cfg.TreeCacheBytes(),
	})
	if err := engine.Start(ctx); err != nil {
		return err
	}
	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, jobs.DebugHandler(m.Debug(), pool), log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	var flight inFlight
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           flight.track(handler),
		ReadHeaderTimeout: 10 * time.Second,
		// No overall read/write timeout: 50 MiB uploads and video downloads
		// on slow links legitimately take minutes; body reads have their own
		// per-route deadlines (web.BodyDeadlines).
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	log.Info("serving", "addr", ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// The job engine and the HTTP server stop together, within the same
	// grace; the pool closes (deferred) only after both.
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		stopJobs(ctx, engine, cfg.ShutdownGrace(), log)
		endLifetime()
	}()
	err = shutdown(ctx, srv, &flight, cfg.ShutdownGrace(), log)
	<-stopped
	return err
}

// stopJobs stops the job engine on SIGTERM: no new job is fetched; running
// jobs (an import, whether or not its client still waits) get the grace to
// finish; at its end they are cancelled, roll back, and River records the
// attempt as failed and queues a retry (another instance, or this one
// restarted, runs it).
func stopJobs(ctx context.Context, engine *jobs.Engine, grace time.Duration, log *slog.Logger) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if engine.Stop(sctx) {
		log.Warn("job engine stopped: jobs still running at the end of the grace were cancelled and will be retried")
	} else {
		log.Info("job engine stopped")
	}
}

// shutdown stops accepting connections and lets in-flight requests finish
// within grace. Past it, the remaining connections are closed: their body
// reads fail, so uploads remove their temporary files, and their handlers
// get abortWait to return before the pool and the store close. Only then,
// when requests were cut off, is the result an error (exit status 1).
func shutdown(ctx context.Context, srv *http.Server, flight *inFlight, grace time.Duration, log *slog.Logger) error {
	log.Info("shutting down", "grace", grace.String(), "in_flight", flight.n.Load())
	// ctx is done by now: the grace period keeps its values, not its cancellation.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		log.Info("stopped")
		return nil
	}
	aborted := flight.n.Load()
	_ = srv.Close()
	done := make(chan struct{})
	go func() { flight.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(abortWait):
		log.Error("handlers still running after their connections closed", "count", flight.n.Load())
	}
	if aborted == 0 {
		log.Info("stopped")
		return nil // only idle connections were left
	}
	log.Error("stopped: requests cut off at the end of the grace", "aborted", aborted)
	return fmt.Errorf("shutdown: %d requests still running after %s were aborted", aborted, grace)
}

// inFlight counts the requests being handled, so shutdown knows whether
// closing the connections cut any off and can wait for their handlers.
type inFlight struct {
	wg sync.WaitGroup
	n  atomic.Int64
}

func (f *inFlight) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.wg.Add(1)
		f.n.Add(1)
		defer func() {
			f.n.Add(-1)
			f.wg.Done()
		}()
		next.ServeHTTP(w, r)
	})
}

// serveDebug starts the DEBUG_ADDR listener (metrics, pprof); the returned
// function closes it. It has no write timeout: a CPU profile streams for
// its requested seconds.
func serveDebug(addr string, h http.Handler, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on DEBUG_ADDR %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("debug listener (metrics, pprof)", "addr", ln.Addr().String())
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}

// buildVersion is the -ldflags version, else the VCS revision Go stamped
// into the binary, else "dev".
func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
	}
	return version
}

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
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"platform/internal/auth"
	"platform/internal/config"
	"platform/internal/db"
	"platform/internal/metrics"
	"platform/internal/server"
	"platform/internal/storage"
)

// shutdownGrace bounds how long in-flight requests may finish after a signal.
const shutdownGrace = 20 * time.Second

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
		"bcrypt_cost", cfg.BcryptCost, "login_concurrency", cfg.LoginConcurrency)

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

	hasher := auth.NewHasher(cfg.BcryptCost, cfg.LoginConcurrency)
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

	handler := server.New(server.Deps{
		Log:            log,
		Pool:           pool,
		Tokens:         auth.NewTokens([]byte(cfg.SecretKey), cfg.TokenTTL()),
		Hasher:         hasher,
		Store:          store,
		PlaceURL:       cfg.PlaceURL,
		TrustedProxies: cfg.TrustedPrefixes,
		Metrics:        m,
	})
	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, m.Debug(), log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// No overall read/write timeout: 50 MiB uploads and video downloads
		// on slow links legitimately take minutes.
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
	log.Info("shutting down", "grace", shutdownGrace.String())
	// ctx is done by now: the grace period keeps its values, not its cancellation.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("shutdown incomplete", "error", err)
	}
	log.Info("stopped")
	return nil
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

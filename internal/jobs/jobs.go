// Package jobs is the service's background work on River (riverqueue/river,
// pgx v5 driver), on the database we already have: jobs are rows of
// river_job, so they outlive the instance that queued or ran them. An
// instance that dies mid-job leaves the row "running"; River's rescuer (on
// whichever instance leads) retries it after RescueAfter, so another
// instance finishes it. Workers are registered before Start (Workers), the
// client is built by Start, and inserts go into the caller's transaction
// (InsertTx), so a job exists exactly when the rows that asked for it do.
//
// The kinds: "excel_import" (admin/groups), "remove_files" (the files of a
// committed delete, retried until the store answers) and "orphan_sweep"
// (periodic, on the leader only, so one instance at a time by construction).
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"platform/internal/db"
	"platform/internal/storage"
)

// Config tunes the engine. Zero values take the production defaults.
type Config struct {
	// MaxWorkers bounds the jobs one instance runs at once (JOB_WORKERS).
	MaxWorkers int
	// ImportTimeout bounds one attempt of an import (JOB_IMPORT_TIMEOUT).
	ImportTimeout time.Duration
	// RescueAfter is how long a job may stay running before it counts as
	// abandoned by a dead instance and is retried (JOB_RESCUE_AFTER); it
	// must exceed every worker's timeout.
	RescueAfter time.Duration
	// SweepEvery is the orphan sweep's period; OrphanGrace its grace.
	SweepEvery  time.Duration
	OrphanGrace time.Duration
	// NoSweep leaves the periodic sweep out (tests of other jobs).
	NoSweep bool
	Log     *slog.Logger
	// DriverPool, when set, is the pool River polls and listens on (tests:
	// one outside the query-counting pool); nil: the service's pool.
	DriverPool *pgxpool.Pool
}

// Production defaults: an import attempt ends within 100 s, a dead
// instance's job is rescued 2 min after it started, and River's rescuer
// looks every 30 s, so the retry starts within 2.5 min (+ leader failover,
// ~15 s) and ends within 100 s more: under 5 minutes in all.
const (
	DefaultMaxWorkers    = 4
	DefaultImportTimeout = 100 * time.Second
	DefaultRescueAfter   = 2 * time.Minute
	DefaultSweepEvery    = time.Hour
)

func (c Config) withDefaults() Config {
	if c.MaxWorkers <= 0 {
		c.MaxWorkers = DefaultMaxWorkers
	}
	if c.ImportTimeout <= 0 {
		c.ImportTimeout = DefaultImportTimeout
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = DefaultRescueAfter
	}
	if c.RescueAfter <= c.ImportTimeout {
		c.RescueAfter = c.ImportTimeout + 10*time.Second
	}
	if c.SweepEvery <= 0 {
		c.SweepEvery = DefaultSweepEvery
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Engine is River on the service's pool.
type Engine struct {
	cfg     Config
	pool    *db.Pool
	store   storage.Store
	workers *river.Workers
	client  *river.Client[pgx.Tx]
}

// New returns an engine with the file-removal and sweep workers
// registered; other packages add theirs to Workers before Start.
func New(pool *db.Pool, store storage.Store, cfg Config) *Engine {
	e := &Engine{cfg: cfg.withDefaults(), pool: pool, store: store, workers: river.NewWorkers()}
	river.AddWorker(e.workers, &removeWorker{e: e})
	river.AddWorker(e.workers, &sweepWorker{e: e})
	return e
}

// Workers is the registry to add workers to, before Start.
func (e *Engine) Workers() *river.Workers { return e.workers }

// ImportTimeout is the configured bound of one import attempt.
func (e *Engine) ImportTimeout() time.Duration { return e.cfg.ImportTimeout }

// Log is the engine's logger.
func (e *Engine) Log() *slog.Logger { return e.cfg.Log }

// Start builds the River client and starts working jobs; ctx is only for
// the start itself (Stop ends the work).
func (e *Engine) Start(ctx context.Context) error {
	var periodic []*river.PeriodicJob
	if !e.cfg.NoSweep {
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(e.cfg.SweepEvery),
			func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true}))
	}
	dp := e.cfg.DriverPool
	if dp == nil {
		dp = db.JobsFrom(e.pool)
	}
	c, err := river.NewClient(riverpgxv5.New(dp), &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: e.cfg.MaxWorkers}},
		Workers:              e.workers,
		PeriodicJobs:         periodic,
		JobTimeout:           e.cfg.ImportTimeout,
		RescueStuckJobsAfter: e.cfg.RescueAfter,
		Logger:               e.cfg.Log.With("component", "river"),
	})
	if err != nil {
		return fmt.Errorf("jobs: new client: %w", err)
	}
	e.client = c
	if err := c.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	e.cfg.Log.Info("job engine started", "max_workers", e.cfg.MaxWorkers,
		"import_timeout", e.cfg.ImportTimeout.String(), "rescue_after", e.cfg.RescueAfter.String())
	return nil
}

// Stop ends the engine on shutdown: no new job is fetched, and running jobs
// get until ctx ends to finish (the shutdown grace). Those still running
// then are cancelled: their transactions roll back, River records the
// attempt as failed and schedules a retry, which this or another instance
// runs later (the import is idempotent). It returns how the stop went.
func (e *Engine) Stop(ctx context.Context) (cancelled bool) {
	if e == nil || e.client == nil {
		return false
	}
	if err := e.client.Stop(ctx); err == nil {
		return false
	}
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = e.client.StopAndCancel(hard)
	return true
}

// ErrNotStarted is an insert before Start.
var ErrNotStarted = errors.New("jobs: engine not started")

// InsertTx queues a job inside tx: it exists once tx commits, never before.
func (e *Engine) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	if e == nil || e.client == nil {
		return nil, ErrNotStarted
	}
	res, err := e.client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res.Job, nil
}

// Client is the River client (nil before Start), for views and tests.
func (e *Engine) Client() *river.Client[pgx.Tx] { return e.client }

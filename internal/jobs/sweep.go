package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"platform/internal/orphans"
)

// SweepArgs is the periodic orphan sweep (no arguments).
type SweepArgs struct{}

// Kind is the River job kind.
func (SweepArgs) Kind() string { return "orphan_sweep" }

// InsertOpts: one queued sweep at a time (a periodic insert while one is
// still waiting is dropped).
func (SweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateScheduled, rivertype.JobStateRunning, rivertype.JobStateRetryable,
	}}}
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	e *Engine
}

// Timeout: a sweep walks the whole store.
func (w *sweepWorker) Timeout(*river.Job[SweepArgs]) time.Duration { return 30 * time.Minute }

// Work sweeps orphan files (orphans.Sweep, under its advisory lock, so an
// old instance's hourly loop during a rollout cannot overlap), aborts the
// store's incomplete multipart uploads older than the grace, and wipes the
// import credentials whose TTL ended.
func (w *sweepWorker) Work(ctx context.Context, job *river.Job[SweepArgs]) error {
	log := w.e.cfg.Log
	res, err := orphans.Sweep(ctx, w.e.pool, w.e.store, w.e.cfg.OrphanGrace, time.Now())
	if err != nil {
		return fmt.Errorf("jobs: orphan sweep: %w", err)
	}
	if res.Removed > 0 || res.Temps > 0 {
		log.Info("orphan file sweep", "removed", res.Removed, "temp_removed", res.Temps, "kept", res.Files-res.Removed)
	}
	if n, err := w.e.store.AbortStaleUploads(ctx, w.e.cfg.OrphanGrace); err != nil {
		return fmt.Errorf("jobs: abort incomplete uploads: %w", err)
	} else if n > 0 {
		log.Info("incomplete multipart uploads aborted", "count", n)
	}
	const wipe = `
UPDATE import_jobs SET credentials = NULL, credentials_until = NULL
WHERE credentials IS NOT NULL AND credentials_until < now() AT TIME ZONE 'UTC'`
	if _, err := w.e.pool.Exec(ctx, wipe); err != nil {
		return fmt.Errorf("jobs: expire import credentials: %w", err)
	}
	return nil
}

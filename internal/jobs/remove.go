package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"platform/internal/db"
	"platform/internal/purge"
	"platform/internal/storage"
)

// RemoveArgs are the files a committed delete left: stored strings and
// directories under the static root.
type RemoveArgs struct {
	Stored []string `json:"stored,omitempty"`
	Dirs   []string `json:"dirs,omitempty"`
}

// Kind is the River job kind.
func (RemoveArgs) Kind() string { return "remove_files" }

// removeMaxAttempts × removeBackoffMax is the retry window: a removal keeps
// being retried for about 8 hours of store outage.
const (
	removeMaxAttempts = 100
	removeBackoffMax  = 5 * time.Minute
)

// InsertOpts: many attempts, so a long store outage is waited out.
func (RemoveArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: removeMaxAttempts}
}

// PurgeTx runs a purge in one transaction, then removes its files at once,
// best effort, so they are gone when the response arrives (as with the
// original). With a job engine e a "remove_files" job is also queued in that
// transaction: it checks the files are gone and retries until the store
// answers, so a removal that failed (store down, instance killed after the
// commit) is still done later.
func PurgeTx(ctx context.Context, pool *db.Pool, store storage.Store, e *Engine, fn func(tx pgx.Tx) (purge.Files, error)) error {
	var files purge.Files
	err := pool.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		if files, err = fn(tx); err != nil || e == nil {
			return err
		}
		return e.RemoveTx(ctx, tx, files)
	})
	if err != nil {
		return err
	}
	files.RemoveNow(ctx, store)
	return nil
}

// RemoveTx queues the removal of a delete's files inside its transaction:
// the job exists exactly when the delete commits, and runs after it.
func (e *Engine) RemoveTx(ctx context.Context, tx pgx.Tx, f purge.Files) error {
	if len(f.Stored) == 0 && len(f.Dirs) == 0 {
		return nil
	}
	_, err := e.InsertTx(ctx, tx, RemoveArgs{Stored: f.Stored, Dirs: f.Dirs}, nil)
	return err
}

type removeWorker struct {
	river.WorkerDefaults[RemoveArgs]
	e *Engine
}

// NextRetry: 1 s, 2 s, 4 s … up to removeBackoffMax between attempts.
func (w *removeWorker) NextRetry(job *river.Job[RemoveArgs]) time.Time {
	d := removeBackoffMax
	if job.Attempt < 10 {
		d = min(time.Duration(1<<(job.Attempt-1))*time.Second, removeBackoffMax)
	}
	return time.Now().Add(d)
}

// Timeout bounds one attempt.
func (w *removeWorker) Timeout(*river.Job[RemoveArgs]) time.Duration { return time.Minute }

// Work removes the files and then checks they are gone: Store.Remove is
// best effort and says nothing, so a file the store still shows (or a store
// that does not answer) fails the attempt, and River retries it.
func (w *removeWorker) Work(ctx context.Context, job *river.Job[RemoveArgs]) error {
	s := w.e.store
	purge.Files{Stored: job.Args.Stored, Dirs: job.Args.Dirs}.Remove(ctx, s)
	for _, st := range job.Args.Stored {
		rel, ok := storage.Rel(st)
		if !ok {
			continue
		}
		f, err := s.Open(ctx, "", rel)
		switch {
		case errors.Is(err, storage.ErrNotExist):
		case err != nil:
			return fmt.Errorf("jobs: check %s removed: %w", rel, err)
		default:
			f.Close()
			return fmt.Errorf("jobs: %s still stored after removal", rel)
		}
	}
	for _, d := range job.Args.Dirs {
		left := 0
		err := s.Walk(ctx, d, func(storage.Entry) error { left++; return nil })
		if err != nil {
			return fmt.Errorf("jobs: check %s removed: %w", d, err)
		}
		if left > 0 {
			return fmt.Errorf("jobs: %d files still stored under %s after removal", left, d)
		}
	}
	if job.Attempt > 1 {
		w.e.cfg.Log.Info("files removed after retries", "job_id", job.ID, "attempt", job.Attempt,
			"files", len(job.Args.Stored), "dirs", len(job.Args.Dirs))
	}
	return nil
}

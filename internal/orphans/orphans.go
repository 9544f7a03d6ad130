// Package orphans keeps files and rows consistent whatever a commit's
// outcome (ARCHITECTURE.md, "Files and rows"). Requests write files before
// the rows that name them and never delete them when a commit's outcome is
// unknown, so a file may outlive the rows it was written for; Sweep removes
// such files once they are older than a grace period, and the temporary
// files of uploads that never finished.
package orphans

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/internal/db"
	"platform/internal/storage"
)

// LockKey is the transaction advisory lock one sweep holds, so instances
// sharing a database never sweep at once (ASCII "latformo", distinct from
// the migration lock's "platform").
const LockKey int64 = 0x6c6174666f726d6f

// TempGrace is how long an upload's temporary file may go unmodified before
// it counts as abandoned. Uploads must keep a minimum rate (web.BodyTimeouts),
// so a live one writes far more often than this.
const TempGrace = 10 * time.Minute

// Dirs are the directories holding files that rows reference.
var Dirs = []string{storage.HomeworkDir, storage.LessonDocsDir, storage.PhotosDir}

// Result counts what one sweep did.
type Result struct {
	Skipped bool // another instance held the lock
	Files   int  // referenced-file candidates examined
	Removed int  // unreferenced files older than the grace, removed
	Temps   int  // stale temporary files removed
}

// referencedSQL lists every stored string that may name a file.
const referencedSQL = `
SELECT photo FROM users WHERE photo IS NOT NULL
UNION SELECT file_path FROM submission_files
UNION SELECT content_url FROM lessons`

// Sweep removes, under the static root, files of Dirs that no row
// references and whose modification time is older than grace, and
// temporary files older than TempGrace. It runs inside a transaction holding
// an advisory lock, so it is safe with several instances; the references are
// read first, and a file written after that read is younger than any
// sensible grace, so it is left alone.
func Sweep(ctx context.Context, pool *db.Pool, store storage.Store, grace time.Duration, now time.Time) (Result, error) {
	var res Result
	err := pool.WithTx(ctx, func(tx pgx.Tx) error {
		var got bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, LockKey).Scan(&got); err != nil {
			return fmt.Errorf("orphans: lock: %w", err)
		}
		if !got {
			res.Skipped = true
			return nil
		}
		rows, err := tx.Query(ctx, referencedSQL)
		if err != nil {
			return fmt.Errorf("orphans: references: %w", err)
		}
		stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("orphans: references: %w", err)
		}
		refs := make(map[string]bool, len(stored))
		for _, s := range stored {
			if rel, ok := referenced(s); ok {
				refs[rel] = true
			}
		}
		return walk(ctx, store, refs, now.Add(-grace), now.Add(-TempGrace), &res)
	})
	return res, err
}

// referenced maps a stored string to the path under the static root it may
// name. It errs on the side of keeping: besides "static/…" and
// "/static/…", a lesson's free-text content_url may be a full URL of this
// server ("https://host/static/lesson_docs/x.pdf?dl=1"), which also counts.
func referenced(stored string) (string, bool) {
	if rel, ok := storage.Rel(stored); ok {
		return path.Clean(rel), true
	}
	_, rest, ok := strings.Cut(stored, "/static/")
	if !ok {
		return "", false
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	return path.Clean(rest), rest != ""
}

// walk removes what Sweep's rule condemns, through the store (local disk
// or the bucket alike).
func walk(ctx context.Context, store storage.Store, refs map[string]bool, before, tempBefore time.Time, res *Result) error {
	for _, dir := range Dirs {
		err := store.Walk(ctx, dir, func(e storage.Entry) error {
			switch {
			case strings.HasPrefix(path.Base(e.Rel), ".tmp-"):
				if e.ModTime.Before(tempBefore) {
					store.Remove(ctx, e.Rel)
					res.Temps++
				}
			case refs[e.Rel]:
				res.Files++
			case e.ModTime.Before(before):
				res.Files++
				store.Remove(ctx, e.Rel)
				res.Removed++
			default:
				res.Files++
			}
			return ctx.Err()
		})
		if err != nil {
			return fmt.Errorf("orphans: walk %s: %w", dir, err)
		}
	}
	return nil
}

// Run sweeps now and then every interval until ctx ends, logging what each
// sweep removed and any failure (a failed sweep is retried at the next tick).
func Run(ctx context.Context, pool *db.Pool, store storage.Store, grace, interval time.Duration, log *slog.Logger) {
	for {
		res, err := Sweep(ctx, pool, store, grace, time.Now())
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("orphan file sweep failed", "error", err)
		case res.Removed > 0 || res.Temps > 0:
			log.Info("orphan file sweep", "removed", res.Removed, "temp_removed", res.Temps, "kept", res.Files-res.Removed)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

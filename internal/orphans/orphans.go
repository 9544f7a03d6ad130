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

// BatchSize is how many store entries one statement checks against the
// database.
const BatchSize = 1000

// referencedSQL answers which of a batch of store paths ($1, relative to
// the static root) some row names in the form the server writes
// ("static/…" or "/static/…"), each an equality probe on an index of
// migration 13 (ix_submission_files_file_path, ix_users_photo,
// ix_lessons_content_url): the cost follows the batch, not the tables.
const referencedSQL = `
SELECT p FROM unnest($1::text[]) AS p
WHERE EXISTS (SELECT 1 FROM submission_files f WHERE f.file_path IN ('static/' || p, '/static/' || p))
   OR EXISTS (SELECT 1 FROM users u WHERE u.photo IN ('static/' || p, '/static/' || p))
   OR EXISTS (SELECT 1 FROM lessons l WHERE l.content_url IN ('static/' || p, '/static/' || p))`

// irregularSQL lists the lesson links that may name a stored file in any
// other form: a full URL of this server ("https://host/static/x.pdf?dl=1"),
// a query or fragment, or a path that is not clean. content_url is free
// text, so these are read once per sweep (a scan that neither sorts nor
// grows with the store) and kept in memory: a handful, where the regular
// forms are millions. Photos and homework paths are written by the server
// in the regular form only.
const irregularSQL = `
SELECT content_url FROM lessons
WHERE strpos(content_url, 'static/') > 0
  AND (content_url !~ '^/?static/' OR content_url ~ '[?#\\]|//|/\.\.?(/|$)')`

// Sweep removes, under the static root, files of Dirs that no row
// references and whose modification time is older than grace, and
// temporary files older than TempGrace. It runs inside a transaction holding
// an advisory lock, so it is safe with several instances. The store is
// walked once and its entries are checked against the database BatchSize
// at a time, so memory holds one batch, never every path; each batch is
// read after the files in it were listed, so a file is never judged on
// rows older than itself.
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
		rows, err := tx.Query(ctx, irregularSQL)
		if err != nil {
			return fmt.Errorf("orphans: references: %w", err)
		}
		stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("orphans: references: %w", err)
		}
		irregular := make(map[string]bool, len(stored))
		for _, s := range stored {
			if rel, ok := referenced(s); ok {
				irregular[rel] = true
			}
		}
		b := &batcher{tx: tx, store: store, irregular: irregular, before: now.Add(-grace), res: &res}
		return walk(ctx, store, b, now.Add(-TempGrace), &res)
	})
	return res, err
}

// batcher holds the store entries waiting to be checked against the database.
type batcher struct {
	tx        pgx.Tx
	store     storage.Store
	irregular map[string]bool
	before    time.Time
	res       *Result
	pending   []storage.Entry
}

// add queues an entry, checking the batch when it is full.
func (b *batcher) add(ctx context.Context, e storage.Entry) error {
	b.res.Files++
	if b.irregular[e.Rel] || !e.ModTime.Before(b.before) {
		return nil // referenced, or too young to judge: no need to ask
	}
	b.pending = append(b.pending, e)
	if len(b.pending) >= BatchSize {
		return b.flush(ctx)
	}
	return nil
}

// flush asks which pending entries are referenced and removes the others.
func (b *batcher) flush(ctx context.Context) error {
	if len(b.pending) == 0 {
		return nil
	}
	paths := make([]string, len(b.pending))
	for i, e := range b.pending {
		paths[i] = e.Rel
	}
	rows, err := b.tx.Query(ctx, referencedSQL, paths)
	if err != nil {
		return fmt.Errorf("orphans: references: %w", err)
	}
	named, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("orphans: references: %w", err)
	}
	keep := make(map[string]bool, len(named))
	for _, p := range named {
		keep[p] = true
	}
	for _, e := range b.pending {
		if !keep[e.Rel] {
			b.store.Remove(ctx, e.Rel)
			b.res.Removed++
		}
	}
	b.pending = b.pending[:0]
	return nil
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
// or the bucket alike), batch by batch.
func walk(ctx context.Context, store storage.Store, b *batcher, tempBefore time.Time, res *Result) error {
	for _, dir := range Dirs {
		err := store.Walk(ctx, dir, func(e storage.Entry) error {
			if strings.HasPrefix(path.Base(e.Rel), ".tmp-") {
				if e.ModTime.Before(tempBefore) {
					store.Remove(ctx, e.Rel)
					res.Temps++
				}
				return ctx.Err()
			}
			if err := b.add(ctx, e); err != nil {
				return err
			}
			return ctx.Err()
		})
		if err == nil {
			err = b.flush(ctx)
		}
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

package jobs_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/internal/db"
	"platform/internal/jobs"
	"platform/internal/purge"
	"platform/internal/storage"
	"platform/internal/testdb"
)

// outageStore is a local store that can be "down": removals then do
// nothing (as a failed S3 DELETE, which Store.Remove only logs) and reads
// fail.
type outageStore struct {
	storage.Store
	down atomic.Bool

	mu      sync.Mutex
	aborted []time.Duration // AbortStaleUploads calls (grace)
	pending int             // incomplete multipart uploads older than the grace
}

var errDown = errors.New("store down")

func (s *outageStore) Remove(ctx context.Context, rels ...string) {
	if !s.down.Load() {
		s.Store.Remove(ctx, rels...)
	}
}

func (s *outageStore) Open(ctx context.Context, dir, name string) (*storage.File, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Store.Open(ctx, dir, name)
}

// AbortStaleUploads is the S3 store's multipart abort, faked.
func (s *outageStore) AbortStaleUploads(_ context.Context, grace time.Duration) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aborted = append(s.aborted, grace)
	n := s.pending
	s.pending = 0
	return n, nil
}

func setup(t *testing.T, cfg jobs.Config) (*db.Pool, *outageStore, *jobs.Engine, string) {
	t.Helper()
	ctx := context.Background()
	url := testdb.NewURL(t)
	pool, err := db.Open(ctx, db.PoolConfig{URL: url, MinConns: 0, MaxConns: 8, WaitTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	dir := t.TempDir()
	local, err := storage.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	store := &outageStore{Store: local}
	e := jobs.New(pool, store, cfg)
	if err := e.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		e.Stop(sctx)
	})
	return pool, store, e, dir
}

func writeFile(t *testing.T, dir, rel string, age time.Duration) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-age)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	return p
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
	}
}

// A delete committed while the store is down: its files' removal is a job
// queued in the delete's transaction, retried while the store does not
// answer, and the files are gone once it is back. A rolled-back delete
// queues nothing.
func TestRemovalRetriedThroughStoreOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, store, e, dir := setup(t, jobs.Config{NoSweep: true})
	file := writeFile(t, dir, "homework/lesson_1/a.pdf", 0)
	kept := writeFile(t, dir, "homework/lesson_1/b.pdf", 0)
	dirFile := writeFile(t, dir, "homework/lesson_2/c.pdf", 0)

	// Rolled back: no job, the file stays.
	errRollback := errors.New("rollback")
	err := pool.WithTx(ctx, func(tx pgx.Tx) error {
		if err := e.RemoveTx(ctx, tx, purge.Files{Stored: []string{"static/homework/lesson_1/b.pdf"}}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}

	store.down.Store(true)
	err = pool.WithTx(ctx, func(tx pgx.Tx) error {
		return e.RemoveTx(ctx, tx, purge.Files{Stored: []string{"static/homework/lesson_1/a.pdf"}, Dirs: []string{"homework/lesson_2"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	attempts := func() (n int, state string) {
		if err := pool.QueryRow(ctx, `SELECT attempt, state::text FROM river_job WHERE kind = 'remove_files'`).Scan(&n, &state); err != nil {
			t.Fatal(err)
		}
		return n, state
	}
	waitUntil(t, 20*time.Second, "a retry while the store is down", func() bool { n, _ := attempts(); return n >= 2 })
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("file gone while the store was down: %v", err)
	}
	store.down.Store(false)
	waitUntil(t, 30*time.Second, "the removal once the store is back", func() bool {
		_, err := os.Stat(file)
		_, derr := os.Stat(dirFile)
		return os.IsNotExist(err) && os.IsNotExist(derr)
	})
	waitUntil(t, 5*time.Second, "the job completed", func() bool { _, s := attempts(); return s == "completed" })
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a rolled-back delete removed its file: %v", err)
	}
	n, _ := attempts()
	t.Logf("removed after %d attempts", n)
}

// The orphan sweep is a periodic River job (leader only: one instance at a
// time): on start it removes unreferenced files older than the grace and
// aborts the store's incomplete multipart uploads older than the grace.
func TestSweepJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, store, _, dir := setup(t, jobs.Config{OrphanGrace: time.Hour, SweepEvery: time.Hour})
	store.mu.Lock()
	store.pending = 3
	store.mu.Unlock()
	old := writeFile(t, dir, "photos/old.png", 2*time.Hour)
	young := writeFile(t, dir, "photos/young.png", time.Minute)
	waitUntil(t, 30*time.Second, "the sweep job", func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'orphan_sweep' AND state = 'completed'`).Scan(&n)
		return n == 1
	})
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("orphan older than the grace kept: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("young file removed: %v", err)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.aborted) != 1 || store.aborted[0] != time.Hour || store.pending != 0 {
		t.Errorf("multipart aborts %v, pending %d", store.aborted, store.pending)
	}
}

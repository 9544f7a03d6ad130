package orphans_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/internal/apitest"
	"platform/internal/apitest/await"
	"platform/internal/auth"
	"platform/internal/orphans"
)

// write creates rel under the static root with the given age.
func write(t *testing.T, env *apitest.Env, rel string, age time.Duration) {
	t.Helper()
	p := filepath.Join(env.StaticDir, rel)
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
}

func exists(env *apitest.Env, rel string) bool {
	_, err := os.Stat(filepath.Join(env.StaticDir, rel))
	return err == nil
}

// The invariant of ARCHITECTURE.md "Files and rows": a file a row names is
// never removed; one no row names goes once older than the grace; stale
// temporary files go, fresh ones (an upload in progress) stay.
func TestSweepRemovesOnlyOldUnreferencedFiles(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	student := env.User(t, auth.Student)
	teacher := env.User(t, auth.Teacher)
	module := env.ID(t, `INSERT INTO modules (title, course, created_at) VALUES ('М', '1', now()) RETURNING id`)
	subject := env.ID(t, `INSERT INTO subjects (module_id, teacher_id, title) VALUES ($1, $2, 'П') RETURNING id`, module, teacher.ID)
	lesson := env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url, created_at)
		VALUES ($1, 'У', 'document', '/static/lesson_docs/kept.pdf', now()) RETURNING id`, subject)
	env.Exec(t, `INSERT INTO lessons (subject_id, title, type, content_url, created_at)
		VALUES ($1, 'У2', 'document', 'https://host.example/static/lesson_docs/full-url.pdf?x=1', now())`, subject)
	sub := env.ID(t, `INSERT INTO lesson_submissions (lesson_id, user_id, submitted_at) VALUES ($1, $2, now()) RETURNING id`, lesson, student.ID)
	env.Exec(t, `INSERT INTO submission_files (submission_id, file_path) VALUES ($1, 'static/homework/lesson_1/kept.txt')`, sub)
	env.Exec(t, `UPDATE users SET photo = 'static/photos/kept.png' WHERE id = $1`, student.ID)

	day := 24 * time.Hour
	kept := []string{
		"homework/lesson_1/kept.txt", "lesson_docs/kept.pdf", "lesson_docs/full-url.pdf", "photos/kept.png",
		"lesson_docs/young-orphan.pdf", // unreferenced but within the grace (its lesson may be saved soon)
		"homework/lesson_1/.tmp-fresh", // an upload in progress
	}
	removed := []string{"homework/lesson_1/orphan.txt", "lesson_docs/orphan.pdf", "photos/orphan.png", "photos/.tmp-stale"}
	for _, rel := range kept {
		age := 2 * day
		if rel == "lesson_docs/young-orphan.pdf" || rel == "homework/lesson_1/.tmp-fresh" {
			age = time.Minute
		}
		write(t, env, rel, age)
	}
	for _, rel := range removed {
		write(t, env, rel, 2*day)
	}

	res, err := orphans.Sweep(context.Background(), env.Pool, env.Store, day, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped || res.Removed != 3 || res.Temps != 1 {
		t.Fatalf("sweep %+v, want 3 removed and 1 temporary", res)
	}
	for _, rel := range kept {
		if !exists(env, rel) {
			t.Errorf("%s removed, want kept", rel)
		}
	}
	for _, rel := range removed {
		if exists(env, rel) {
			t.Errorf("%s kept, want removed", rel)
		}
	}
}

// Several instances share one database: while another holds the sweep's
// lock, a sweep skips rather than racing it.
func TestSweepSkipsWhileAnotherInstanceSweeps(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	write(t, env, "photos/orphan.png", 48*time.Hour)

	held, release := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- env.Pool.WithTx(context.Background(), func(tx pgx.Tx) error {
			if _, err := tx.Exec(context.Background(), `SELECT pg_advisory_xact_lock($1)`, orphans.LockKey); err != nil {
				close(held)
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	await.Recv(t, held, "a transaction to take the sweep's lock")
	res, err := orphans.Sweep(context.Background(), env.Pool, env.Store, time.Hour, time.Now())
	close(release)
	if err := await.Recv(t, errc, "the locking transaction to end"); err != nil {
		t.Fatal(err)
	}
	if err != nil || !res.Skipped || !exists(env, "photos/orphan.png") {
		t.Fatalf("sweep under another's lock: %+v, %v; want skipped, file kept", res, err)
	}
	res, err = orphans.Sweep(context.Background(), env.Pool, env.Store, time.Hour, time.Now())
	if err != nil || res.Removed != 1 || exists(env, "photos/orphan.png") {
		t.Fatalf("sweep after: %+v, %v; want the orphan removed", res, err)
	}
}

// Issue 20: the store is checked against the rows a batch at a time; files
// on both sides of batch boundaries keep their fate, and the statements
// follow the store's size (one per batch), not the tables'.
func TestSweepInBatches(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	student := env.User(t, auth.Student)
	module := env.ID(t, `INSERT INTO modules (title) VALUES ('М') RETURNING id`)
	subject := env.ID(t, `INSERT INTO subjects (module_id, title) VALUES ($1, 'П') RETURNING id`, module)
	lesson := env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'У', 'video', 'x') RETURNING id`, subject)
	sub := env.ID(t, `INSERT INTO lesson_submissions (lesson_id, user_id) VALUES ($1, $2) RETURNING id`, lesson, student.ID)
	n := orphans.BatchSize*2 + 10
	env.Exec(t, `INSERT INTO submission_files (submission_id, file_path)
		SELECT $1, 'static/homework/f' || lpad(i::text, 5, '0') || '.txt' FROM generate_series(0, $2 - 1) i WHERE i % 2 = 0`, sub, n)
	for i := range n {
		write(t, env, fmt.Sprintf("homework/f%05d.txt", i), 48*time.Hour)
	}
	var res orphans.Result
	var err error
	statements := env.Queries(func() {
		res, err = orphans.Sweep(context.Background(), env.Pool, env.Store, 24*time.Hour, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != n || res.Removed != n/2 {
		t.Fatalf("sweep %+v, want %d files, %d removed", res, n, n/2)
	}
	for i := range n {
		if got, want := exists(env, fmt.Sprintf("homework/f%05d.txt", i)), i%2 == 0; got != want {
			t.Fatalf("file %d exists=%v, want %v", i, got, want)
		}
	}
	// BEGIN, lock, irregular links, one per batch of old files, COMMIT.
	if want := int64(3 + (n+orphans.BatchSize-1)/orphans.BatchSize + 1); statements > want+1 {
		t.Errorf("%d statements, want about %d", statements, want)
	}
}

package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"platform/internal/storage"
)

// `platform files migrate` copies STATIC_DIR into the bucket under the same
// names (so stored strings keep working), skips saves in progress, and run
// again copies nothing.
func TestFilesMigrate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	dir := t.TempDir()
	files := map[string]string{
		"photos/1_a.png":             "png",
		"lesson_docs/x.pdf":          "pdf",
		"homework/lesson_3/h.docx":   "docx",
		"homework/lesson_3/.tmp-abc": "half a file",
		"README.md":                  "layout",
	}
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	environ := []string{
		"DATABASE_URL=postgres://unused@127.0.0.1:1/x", "SECRET_KEY=files-migrate-secret-0123",
		"STATIC_DIR=" + dir, "FILE_STORE=s3", "S3_ENDPOINT=" + u.Host, "S3_BUCKET=migrated",
		"S3_ACCESS_KEY=k", "S3_SECRET_KEY=s", "S3_USE_SSL=false",
	}
	var out, logs bytes.Buffer
	if err := run(context.Background(), []string{"files", "migrate"}, environ, &out, &logs); err != nil {
		t.Fatalf("migrate: %v\n%s", err, logs.String())
	}
	if !strings.Contains(out.String(), "copied 3 files (10 bytes), 0 already in the bucket") {
		t.Errorf("first run: %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"files", "migrate"}, environ, &out, &logs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "copied 0 files (0 bytes), 3 already in the bucket") {
		t.Errorf("second run: %q", out.String())
	}

	bucket, err := storage.OpenS3(t.Context(), storage.S3Config{Endpoint: u.Host, Bucket: "migrated", AccessKey: "k", SecretKey: "s"},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	bucket.Walk(t.Context(), "", func(e storage.Entry) error { keys = append(keys, e.Rel); return nil })
	slices.Sort(keys)
	if want := []string{"homework/lesson_3/h.docx", "lesson_docs/x.pdf", "photos/1_a.png"}; !slices.Equal(keys, want) {
		t.Fatalf("bucket keys %v, want %v", keys, want)
	}
	rel, _ := storage.Rel("/static/lesson_docs/x.pdf") // a stored string, as in rows
	f, err := bucket.Open(t.Context(), "", rel)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, _ := io.ReadAll(f); string(b) != "pdf" {
		t.Errorf("content %q", b)
	}

	// Without FILE_STORE=s3 there is no target.
	if err := run(context.Background(), []string{"files", "migrate"}, environ[:3], &out, &logs); err == nil || !strings.Contains(err.Error(), "FILE_STORE=s3") {
		t.Errorf("local target: %v", err)
	}
}

package storage_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"platform/internal/storage"
)

// fakeS3 is a store on an in-process S3 server (gofakes3); the end-to-end
// test (scripts/e2e.sh) runs the same store against SeaweedFS.
func fakeS3(t *testing.T) storage.Store {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	s, err := storage.OpenS3(t.Context(), storage.S3Config{
		Endpoint: u.Host, Bucket: "platform", Region: "us-east-1",
		AccessKey: "test", SecretKey: "test-secret",
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func localStore(t *testing.T) storage.Store {
	s, _ := open(t)
	return s
}

// Both stores keep the same contract: what the domains and the download
// endpoints rely on.
func TestStoreContract(t *testing.T) {
	for name, mk := range map[string]func(*testing.T) storage.Store{"local": localStore, "s3": fakeS3} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testContract(t, mk(t))
		})
	}
}

func walk(t *testing.T, s storage.Store, dir string) []string {
	t.Helper()
	var got []string
	if err := s.Walk(t.Context(), dir, func(e storage.Entry) error {
		got = append(got, e.Rel)
		return nil
	}); err != nil {
		t.Fatalf("walk %q: %v", dir, err)
	}
	slices.Sort(got)
	return got
}

func read(t *testing.T, s storage.Store, dir, name string) string {
	t.Helper()
	f, err := s.Open(t.Context(), dir, name)
	if err != nil {
		t.Fatalf("open %s/%s: %v", dir, name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != f.Size || f.ModTime.IsZero() {
		t.Errorf("%s: size %d for %d bytes, modtime %v", name, f.Size, len(b), f.ModTime)
	}
	return string(b)
}

func testContract(t *testing.T, s storage.Store) {
	ctx := t.Context()
	if n, err := s.Save(ctx, "lesson_docs/a.pdf", strings.NewReader("0123456789"), 10); err != nil || n != 10 {
		t.Fatalf("save at the limit: %d, %v", n, err)
	}
	if got := read(t, s, "", "lesson_docs/a.pdf"); got != "0123456789" {
		t.Fatalf("content %q", got)
	}
	// Over the limit, or a stream that breaks: nothing is published.
	if _, err := s.Save(ctx, "lesson_docs/big.pdf", strings.NewReader("0123456789x"), 10); !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	broken := io.MultiReader(strings.NewReader("12"), errReader{})
	if _, err := s.Save(ctx, "homework/lesson_1/x.pdf", broken, 10); !errors.Is(err, errBroken) {
		t.Fatalf("broken stream: %v", err)
	}
	if got := walk(t, s, ""); !slices.Equal(got, []string{"lesson_docs/a.pdf"}) {
		t.Fatalf("files after failed saves: %v", got)
	}

	// Seeking serves ranges (http.ServeContent seeks to the end for the size).
	f, err := s.Open(ctx, "", "lesson_docs/a.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if end, err := f.Seek(0, io.SeekEnd); err != nil || end != 10 {
		t.Fatalf("seek end: %d, %v", end, err)
	}
	if _, err := f.Seek(3, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 4)
	if _, err := io.ReadFull(f, part); err != nil || string(part) != "3456" {
		t.Fatalf("range read %q, %v", part, err)
	}
	f.Close()

	// Missing files and names that are directories are ErrNotExist; a name
	// confined to photos/ cannot reach lesson_docs/.
	for _, c := range [][2]string{{"", "lesson_docs/none.pdf"}, {"", "lesson_docs"}, {"", "lesson_docs/a.pdf/"}, {"", "."}, {"photos", "x.png"}} {
		if _, err := s.Open(ctx, c[0], c[1]); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("open %q in %q: %v, want ErrNotExist", c[1], c[0], err)
		}
	}
	if _, err := s.Open(ctx, "photos", "../lesson_docs/a.pdf"); !errors.Is(err, storage.ErrNotExist) && !errors.Is(err, storage.ErrOutside) {
		t.Errorf("open out of photos/: %v", err)
	}

	// Walk by directory; RemoveDir and Remove; removing a missing file is no failure.
	for _, rel := range []string{"homework/lesson_1/s1.pdf", "homework/lesson_1/s2.pdf", "homework/lesson_10/s3.pdf", "photos/1_a.png"} {
		if _, err := s.Save(ctx, rel, strings.NewReader(rel), 100); err != nil {
			t.Fatal(err)
		}
	}
	if got := walk(t, s, "homework"); !slices.Equal(got, []string{"homework/lesson_1/s1.pdf", "homework/lesson_1/s2.pdf", "homework/lesson_10/s3.pdf"}) {
		t.Fatalf("walk homework: %v", got)
	}
	if got := read(t, s, "photos", "1_a.png"); got != "photos/1_a.png" {
		t.Fatalf("photo %q", got)
	}
	s.RemoveDir(ctx, "homework/lesson_1")
	s.Remove(ctx, "photos/1_a.png", "photos/missing.png", "")
	storage.RemoveStored(ctx, s, "/static/lesson_docs/a.pdf", "elsewhere/x")
	if got := walk(t, s, ""); !slices.Equal(got, []string{"homework/lesson_10/s3.pdf"}) {
		t.Fatalf("after removals: %v", got)
	}
	if got := walk(t, s, "missing_dir"); len(got) != 0 {
		t.Fatalf("walk of a missing directory: %v", got)
	}
	stop := errors.New("stop")
	if err := s.Walk(ctx, "", func(storage.Entry) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("walk stopped by fn: %v", err)
	}
}

// A file longer than one part goes as a multipart upload; one over the limit
// is aborted after its first part was sent, and never appears.
func TestS3Multipart(t *testing.T) {
	t.Parallel()
	s := fakeS3(t)
	ctx := t.Context()
	const size = 9 << 20
	content := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	if n, err := s.Save(ctx, "lesson_docs/big.pdf", bytes.NewReader(content), size); err != nil || n != size {
		t.Fatalf("multipart save: %d, %v", n, err)
	}
	f, err := s.Open(ctx, "", "lesson_docs/big.pdf")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if _, err := s.Save(ctx, "lesson_docs/over.pdf", bytes.NewReader(content), size-1); !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if got := walk(t, s, ""); !slices.Equal(got, []string{"lesson_docs/big.pdf"}) {
		t.Fatalf("files: %v", got)
	}
}

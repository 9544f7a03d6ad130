package files

import (
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"platform/internal/storage"
)

// FuzzResolve: the download path resolver (requestName, then open through
// os.Root) maps any request path to a regular file inside the root, or to
// "outside" / "missing"; never a panic, another error, or a file outside
// (a symlink out of the root is planted as a target).
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"a.txt", "../secret", "%2e%2e/secret", "sub/../a.txt", "out/secret", "sub//a.txt",
		"%00", "%FF", "/etc/passwd", "sub/", "", "..%2fsecret", "a.txt/", "./a.txt"} {
		f.Add(s)
	}
	dir := f.TempDir()
	rootDir, outside := filepath.Join(dir, "root"), filepath.Join(dir, "outside")
	for _, d := range []string{filepath.Join(rootDir, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	for _, p := range []string{filepath.Join(rootDir, "a.txt"), filepath.Join(rootDir, "sub", "a.txt"), filepath.Join(outside, "secret")} {
		if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(rootDir, "out")); err != nil {
		f.Fatal(err)
	}
	store, err := storage.Open(rootDir, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	f.Fuzz(func(t *testing.T, rest string) {
		u, err := url.Parse("http://x" + downloadPrefix + rest)
		if err != nil || strings.ContainsAny(rest, "?#") {
			return
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.URL = u
		name, ok := requestName(r, downloadPrefix)
		if !ok {
			return
		}
		fl, err := store.Open(t.Context(), "", name)
		switch {
		case errors.Is(err, storage.ErrOutside), errors.Is(err, storage.ErrNotExist):
			return
		case err != nil:
			t.Fatalf("%q: %v", rest, err)
		}
		defer fl.Close()
		// Each planted file holds its own path: the content tells where the
		// store really read from.
		b, err := io.ReadAll(fl)
		if err != nil {
			t.Fatalf("%q: read: %v", rest, err)
		}
		if strings.HasPrefix(string(b), outside) {
			t.Fatalf("%q resolved outside the root: %s", rest, b)
		}
	})
}

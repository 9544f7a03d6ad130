package files

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { root.Close() })
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
		fl, err := open(root, name)
		switch {
		case errors.Is(err, errOutside), errors.Is(err, errMissing):
			return
		case err != nil:
			t.Fatalf("%q: %v", rest, err)
		}
		defer fl.Close()
		got, err := filepath.EvalSymlinks(fl.Name())
		if err != nil {
			got = fl.Name()
		}
		b, _ := os.ReadFile(filepath.Join(rootDir, name))
		if strings.HasPrefix(string(b), outside) || strings.Contains(got, "outside") {
			t.Fatalf("%q resolved outside the root: %s", rest, got)
		}
	})
}

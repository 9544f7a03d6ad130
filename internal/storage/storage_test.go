package storage_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"platform/internal/apperr"
	"platform/internal/storage"
)

// Every example and refusal of API.md §0.7's extension rule.
func TestExtension(t *testing.T) {
	cases := []struct {
		name, want string
		refused    bool
	}{
		{"avatar.PNG", ".png", false},
		{"../../etc/passwd", "", false},
		{"a/b/c.png", ".png", false},
		{".bashrc", "", false},
		{"..bashrc", "", false},
		{"...", "", false},
		{"noext", "", false},
		{"", "", false},
		{"dir.d/file", "", false},
		{"archive.tar.GZ", ".gz", false},
		{"a.", ".", false},
		{".a.b", ".b", false},
		{"evil.svg", ".svg", false},
		{"Файл.ПНГ", ".пнг", false},
		{`a\b.png`, ".png", false}, // the backslash is before the extension
		{`a.p\ng`, "", true},
		{"a.p\x00g", "", true},
		{"a.p\x01g", "", true},
		{"a.png\n", "", true},
		{"a.p\x1fg", "", true},
		{"a.p\x7fg", "", true},
		{"a." + strings.Repeat("x", 31), "." + strings.Repeat("x", 31), false}, // 32 with the dot
		{"a." + strings.Repeat("x", 32), "", true},
		{"a." + strings.Repeat("я", 31), "." + strings.Repeat("я", 31), false}, // characters, not bytes
	}
	for _, c := range cases {
		got, err := storage.Extension(c.name)
		if c.refused {
			if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindBadRequest || e.Detail != "Недопустимое имя файла" {
				t.Errorf("Extension(%q) = %q, %v; want refusal", c.name, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Extension(%q) = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

func TestCheckAllowed(t *testing.T) {
	avatar := []string{".jpg", ".jpeg", ".png", ".webp", ".gif"}
	if err := storage.CheckAllowed(".png", avatar...); err != nil {
		t.Errorf(".png: %v", err)
	}
	for ext, detail := range map[string]string{
		".svg": "Недопустимый тип файла: .svg",
		"":     "Недопустимый тип файла: без расширения",
		".PNG": "Недопустимый тип файла: .PNG", // Extension lower-cases first
	} {
		e, ok := apperr.As(storage.CheckAllowed(ext, avatar...))
		if !ok || e.Kind != apperr.KindBadRequest || e.Detail != detail {
			t.Errorf("%q: %v, want 400 %q", ext, e, detail)
		}
	}
}

func open(t *testing.T) (storage.Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := storage.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

// files lists every file under dir (relative paths), temporary ones included.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSave(t *testing.T) {
	s, dir := open(t)
	// Exactly the limit is accepted, under the final name only.
	n, err := s.Save(t.Context(), "photos/ok.png", strings.NewReader("12345"), 5)
	if err != nil || n != 5 {
		t.Fatalf("save at the limit: %d, %v", n, err)
	}
	if got := files(t, dir); len(got) != 1 || got[0] != filepath.Join("photos", "ok.png") {
		t.Fatalf("files after save: %v", got)
	}
	// One byte over: ErrTooLarge, and neither the temporary nor the target file stays.
	_, err = s.Save(t.Context(), "photos/big.png", strings.NewReader("123456"), 5)
	if !errors.Is(err, storage.ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	// A stream that breaks: its error is returned as is, nothing stays.
	broken := io.MultiReader(strings.NewReader("12"), errReader{})
	if _, err := s.Save(t.Context(), "homework/lesson_1/x.pdf", broken, 5); !errors.Is(err, errBroken) {
		t.Fatalf("broken stream: %v", err)
	}
	if got := files(t, dir); len(got) != 1 {
		t.Fatalf("files left behind: %v", got)
	}
}

var errBroken = errors.New("broken")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

// untouched fails the test if the body is read at all.
type untouched struct{ t *testing.T }

func (u untouched) Read([]byte) (int, error) {
	u.t.Error("body read although Content-Length is over the limit")
	return 0, io.EOF
}

func TestUploadContentLengthRefusedBeforeReading(t *testing.T) {
	const limit = 5 * storage.MiB
	r := httptest.NewRequest("POST", "/user/upload-photo", io.NopCloser(untouched{t}))
	r.Header.Set("Content-Type", "multipart/form-data; boundary=X")
	r.ContentLength = limit + 64<<10 + 1
	_, err := storage.NewUpload(r, limit, "Файл слишком большой")
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindTooLarge || e.Detail != "Файл слишком большой" {
		t.Fatalf("NewUpload: %v, want 413", err)
	}
	// At limit + 64 KiB the body is read.
	r.ContentLength = limit + 64<<10
	r.Body = io.NopCloser(strings.NewReader(""))
	if _, err := storage.NewUpload(r, limit, "Файл слишком большой"); err != nil {
		t.Fatalf("NewUpload at the slack: %v", err)
	}
}

// multipartBody is a form with one file part of the given size and a comment.
func multipartBody(t *testing.T, fileSize, commentSize int) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", "doc.pdf")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(bytes.Repeat([]byte("x"), fileSize))
	mw.WriteField("comment", strings.Repeat("c", commentSize))
	mw.Close()
	return &buf, mw.FormDataContentType()
}

func request(body io.Reader, ct string, length int64) *http.Request {
	r := httptest.NewRequest("POST", "/lessons/upload/lesson-file", body)
	r.Header.Set("Content-Type", ct)
	r.ContentLength = length
	return r
}

// A file passing the limit while streaming is 413 with the upload's message
// and leaves no file, temporary or final; a body with no Content-Length is
// capped at limit + 64 KiB; a form field over 64 KiB is 413.
func TestUploadStreamingLimits(t *testing.T) {
	const limit = 100 << 10
	const msg = "Файл слишком большой"
	s, dir := open(t)

	save := func(r *http.Request) error {
		u, err := storage.NewUpload(r, limit, msg)
		if err != nil {
			return err
		}
		for {
			p, err := u.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if p.IsFile() {
				if _, err := u.Save(s, p, "lesson_docs/"+storage.NewName(".pdf"), limit); err != nil {
					return err
				}
				continue
			}
			if _, err := u.Value(p); err != nil {
				return err
			}
		}
	}
	tooLarge := func(what string, err error) {
		t.Helper()
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindTooLarge || e.Detail != msg {
			t.Errorf("%s: %v, want 413 %q", what, err, msg)
		}
		if got := files(t, dir); len(got) != 0 {
			t.Errorf("%s: files left: %v", what, got)
		}
	}

	body, ct := multipartBody(t, limit+1, 1)
	tooLarge("file over the limit", save(request(body, ct, int64(body.Len()))))

	body, ct = multipartBody(t, 70<<10+limit, 1) // over limit + slack, Content-Length unknown
	tooLarge("unsized body", save(request(body, ct, -1)))

	body, ct = multipartBody(t, 10, 64<<10+1)
	err := save(request(body, ct, -1))
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindTooLarge || e.Detail != msg {
		t.Errorf("long field: %v, want 413", err)
	}

	// The file at its limit and a field at its cap fit: the 64 KiB of slack
	// is for the whole form, so the field is a little shorter here.
	body, ct = multipartBody(t, limit, 60<<10)
	if err := save(request(body, ct, int64(body.Len()))); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
	// Two files: this one, and the long-field case's, saved before its field
	// failed (removing what a failed request wrote is the handler's job).
	got := files(t, dir)
	if len(got) != 2 {
		t.Fatalf("files: %v", got)
	}
	for _, f := range got {
		if strings.Contains(f, ".tmp-") {
			t.Errorf("temporary file left: %s", f)
		}
	}
}

// Issue 10.1: the store refuses ".." (and "." or empty segments) even when
// the path would stay inside the root: lesson_docs/../homework/… removes
// nothing, and nothing is saved under such a name.
func TestDotDotRefusedInsideRoot(t *testing.T) {
	t.Parallel()
	s, dir := open(t)
	victim := filepath.Join(dir, "homework", "lesson_1", "5_0a.txt")
	if err := os.MkdirAll(filepath.Dir(victim), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(victim, []byte("homework"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"lesson_docs/../homework/lesson_1/5_0a.txt", "./homework/lesson_1/5_0a.txt",
		"homework//lesson_1/5_0a.txt", "homework/lesson_1/./5_0a.txt"} {
		s.Remove(t.Context(), rel)
		storage.RemoveStored(t.Context(), s, "/static/"+rel)
	}
	s.RemoveDir(t.Context(), "lesson_docs/../homework")
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("a path with .. removed the file: %v", err)
	}
	if _, err := s.Save(t.Context(), "lesson_docs/../photos/x.png", strings.NewReader("x"), 10); !apperr.Is(err, apperr.KindInternal) {
		t.Fatalf("save with ..: %v", err)
	}
	if got := files(t, dir); len(got) != 1 {
		t.Fatalf("files %v", got)
	}
}

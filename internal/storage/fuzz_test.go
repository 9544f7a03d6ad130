package storage_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"platform/internal/apperr"
	"platform/internal/storage"
)

// FuzzUpload: any multipart body is read part by part (values, files saved
// under the root, the rest drained) without a panic; every failure is a
// client error (400/413/422), never one that would become a 500.
func FuzzUpload(f *testing.F) {
	for _, s := range []string{
		"--B\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nhi\r\n--B--\r\n",
		"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc\r\n--B--\r\n",
		"--B\r\nno colon\r\n\r\nv\r\n--B--\r\n", "--B\r\n\r\n", "", "--B--", "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../x\"\r\n\r\n",
		"--B\r\nContent-Disposition: form-data; name=\"a\"; filename*=utf-8''%FF\r\n\r\nx\r\n--B--\r\n",
	} {
		f.Add(s)
	}
	store, err := storage.Open(f.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary=B")
		up, err := storage.NewUpload(r, 1<<10, "too large")
		if err != nil {
			clientError(t, err)
			return
		}
		for {
			p, err := up.Next()
			if err == io.EOF {
				return
			}
			if err == nil {
				switch {
				case p.FormName() == "file" && p.IsFile():
					var ext string
					if ext, err = storage.Extension(p.ClientName()); err == nil {
						rel := storage.LessonDocsDir + "/" + storage.NewName(ext)
						if _, err = up.Save(store, p, rel, 1<<10); err == nil {
							store.Remove(t.Context(), rel)
						}
					}
				case !p.IsFile():
					_, err = up.Value(p)
				default:
					err = up.Drain(p)
				}
			}
			if err != nil {
				clientError(t, err)
				return
			}
		}
	})
}

// FuzzSafeRel: whatever SafeRel admits has no "..", "." or empty segment,
// and no content_url admitted as a document names a path outside lesson_docs/.
func FuzzSafeRel(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "a/../b", "/x", "a//b", ".", "lesson_docs/x.pdf", "/static/lesson_docs/../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if storage.SafeRel(s) {
			for seg := range strings.SplitSeq(s, "/") {
				if seg == ".." || seg == "." || seg == "" {
					t.Fatalf("SafeRel(%q) admitted segment %q", s, seg)
				}
			}
		}
		if name, ok := storage.LessonDoc(s); ok {
			if rel, _ := storage.Rel(s); !storage.SafeRel(rel) || rel != storage.LessonDocsDir+"/"+name || strings.Contains(name, "/") {
				t.Fatalf("LessonDoc(%q) = %q", s, name)
			}
		}
	})
}

func clientError(t *testing.T, err error) {
	t.Helper()
	var v *apperr.ValidationError
	if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal {
		return
	}
	if ok := asValidation(err, &v); ok {
		return
	}
	t.Fatalf("not a client error: %v", err)
}

func asValidation(err error, v **apperr.ValidationError) bool {
	ve, ok := err.(*apperr.ValidationError)
	*v = ve
	return ok
}

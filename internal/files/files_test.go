package files_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// put writes a file under the static root.
func put(t *testing.T, env *apitest.Env, rel, content string) {
	t.Helper()
	full := filepath.Join(env.StaticDir, rel)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// get sends a GET or HEAD with optional headers.
func get(t *testing.T, env *apitest.Env, method, path string, as apitest.User, header ...string) *apitest.Response {
	t.Helper()
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return env.Send(t, apitest.Request{Method: method, Path: path, Token: as.Token, Header: h})
}

func TestDownloadAuthorization(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin, teacher, other := env.User(t, auth.Admin), env.User(t, auth.Teacher), env.User(t, auth.Teacher)
	owner, student := env.User(t, auth.Student), env.User(t, auth.Student)
	module := env.ID(t, `INSERT INTO modules (title) VALUES ('М') RETURNING id`)
	subject := env.ID(t, `INSERT INTO subjects (module_id, teacher_id, title) VALUES ($1, $2, 'С') RETURNING id`, module, teacher.ID)
	lesson := env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'Л', 'pdf', '') RETURNING id`, subject)
	sub := env.ID(t, `INSERT INTO lesson_submissions (lesson_id, user_id) VALUES ($1, $2) RETURNING id`, lesson, owner.ID)
	hw := fmt.Sprintf("homework/lesson_%d/%d_0a.pdf", lesson, owner.ID)
	env.Exec(t, `INSERT INTO submission_files (submission_id, file_path) VALUES ($1, $2)`, sub, "static/"+hw)
	for _, rel := range []string{"photos/1_a.png", "lesson_docs/a.pdf", hw, "homework/lesson_1/stray.pdf", "misc/notes.txt"} {
		put(t, env, rel, "content of "+rel)
	}

	type want struct {
		as     apitest.User
		status int
	}
	for _, tc := range []struct {
		rel   string
		cases []want
	}{
		{"photos/1_a.png", []want{{student, 200}, {teacher, 200}, {admin, 200}}},
		{"lesson_docs/a.pdf", []want{{student, 200}, {other, 200}}},
		{hw, []want{{owner, 200}, {teacher, 200}, {admin, 200}, {other, 403}, {student, 403}}},
		{"homework/lesson_1/stray.pdf", []want{{admin, 200}, {teacher, 403}, {owner, 403}}},
		{"misc/notes.txt", []want{{admin, 200}, {teacher, 403}, {student, 403}}},
	} {
		for _, c := range tc.cases {
			t.Run(fmt.Sprintf("%s as %s %d", tc.rel, c.as.Role, c.as.ID), func(t *testing.T) {
				res := get(t, env, "GET", "/files/download/"+tc.rel, c.as)
				switch c.status {
				case 200:
					res.Status(t, 200)
					if string(res.Body) != "content of "+tc.rel {
						t.Fatalf("body %q", res.Body)
					}
				case 403:
					res.Error(t, 403, "Недостаточно прав")
				}
			})
		}
	}
	// A ".." walk is refused before authorization, even when it stays inside the root.
	get(t, env, "GET", "/files/download/photos/../"+hw, owner).Error(t, 403, "Недопустимый путь к файлу")
	get(t, env, "GET", "/files/download/photos/1_a.png", apitest.User{}).Error(t, 401, "Not authenticated")
	get(t, env, "HEAD", "/files/download/photos/1_a.png", apitest.User{}).Status(t, 401)
}

func TestDownloadResolution(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	put(t, env, "lesson_docs/a.pdf", "0123456789")
	// NUL or bytes that are not UTF-8 are refused at the edge (issue 10.5), as
	// in every path parameter: a 422, before any lookup.
	get(t, env, "GET", "/files/download/photos/a%00.png", admin).HasIssue(t, "value_error", "path.file_path")
	get(t, env, "GET", "/files/download/homework/%FF.txt", admin).HasIssue(t, "value_error", "path.file_path")
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustLink := func(target, rel string) {
		if err := os.Symlink(target, filepath.Join(env.StaticDir, rel)); err != nil {
			t.Fatal(err)
		}
	}
	mustLink(outside, "photos/abs-link.txt")
	mustLink("../../"+filepath.Base(filepath.Dir(outside))+"/secret.txt", "photos/rel-link.txt")
	mustLink(filepath.Dir(outside), "photos/dir-link")
	mustLink("../lesson_docs/a.pdf", "photos/inside-link.pdf")

	for _, tc := range []struct {
		path   string
		status int
		detail string
	}{
		{"/files/download/../etc/passwd", 403, "Недопустимый путь к файлу"},
		{"/files/download/photos/../../etc/passwd", 403, "Недопустимый путь к файлу"},
		{"/files/download/%2e%2e/%2e%2e/etc/passwd", 403, "Недопустимый путь к файлу"},
		{"/files/download/..%2f..%2fetc%2fpasswd", 403, "Недопустимый путь к файлу"},
		{"/files/download/%2E%2E%2Fsecret.txt", 403, "Недопустимый путь к файлу"},
		{"/files/download//etc/passwd", 403, "Недопустимый путь к файлу"},
		{"/files/download/%2fetc%2fpasswd", 403, "Недопустимый путь к файлу"},
		{"/files/download/photos/abs-link.txt", 403, "Недопустимый путь к файлу"},
		{"/files/download/photos/rel-link.txt", 403, "Недопустимый путь к файлу"},
		{"/files/download/photos/dir-link/secret.txt", 403, "Недопустимый путь к файлу"},
		{"/files/download/photos/missing.png", 404, "Файл не найден"},
		{"/files/download/photos", 404, "Файл не найден"},
		{"/files/download/photos/", 404, "Файл не найден"},
		{"/files/download/", 404, "Файл не найден"},
		{"/files/download/lesson_docs/a.pdf/", 404, "Файл не найден"},
		{"/files/download/%252e%252e/x", 404, "Файл не найден"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			get(t, env, "GET", tc.path, admin).Error(t, tc.status, tc.detail)
		})
	}
	t.Run("symlink inside the root", func(t *testing.T) {
		res := get(t, env, "GET", "/files/download/photos/inside-link.pdf", admin).Status(t, 200)
		if string(res.Body) != "0123456789" {
			t.Fatalf("body %q", res.Body)
		}
	})
	t.Run("encoded slash inside the root", func(t *testing.T) {
		get(t, env, "GET", "/files/download/lesson_docs%2fa.pdf", admin).Status(t, 200)
	})
}

func TestDownloadHeadersAndRanges(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	student := env.User(t, auth.Student)
	put(t, env, "lesson_docs/report-1.pdf", "0123456789")
	put(t, env, "photos/1_Снимок экрана.png", "png")
	path := "/files/download/lesson_docs/report-1.pdf"

	res := get(t, env, "GET", path, student).Status(t, 200)
	for k, v := range map[string]string{
		"Content-Type":           "application/octet-stream",
		"Content-Disposition":    `attachment; filename="report-1.pdf"`,
		"Content-Length":         "10",
		"Accept-Ranges":          "bytes",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := res.Header.Get(k); got != v {
			t.Fatalf("%s: %q, want %q", k, got, v)
		}
	}
	etag, lastMod := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
	if etag == "" || lastMod == "" {
		t.Fatalf("validators: etag %q last-modified %q", etag, lastMod)
	}

	t.Run("non-ASCII name", func(t *testing.T) {
		res := get(t, env, "GET", "/files/download/photos/1_%D0%A1%D0%BD%D0%B8%D0%BC%D0%BE%D0%BA%20%D1%8D%D0%BA%D1%80%D0%B0%D0%BD%D0%B0.png", student).Status(t, 200)
		want := "attachment; filename*=utf-8''1_%D0%A1%D0%BD%D0%B8%D0%BC%D0%BE%D0%BA%20%D1%8D%D0%BA%D1%80%D0%B0%D0%BD%D0%B0.png"
		if got := res.Header.Get("Content-Disposition"); got != want {
			t.Fatalf("Content-Disposition %q", got)
		}
	})
	t.Run("range", func(t *testing.T) {
		res := get(t, env, "GET", path, student, "Range", "bytes=2-5").Status(t, 206)
		if string(res.Body) != "2345" || res.Header.Get("Content-Range") != "bytes 2-5/10" {
			t.Fatalf("body %q Content-Range %q", res.Body, res.Header.Get("Content-Range"))
		}
	})
	t.Run("suffix range", func(t *testing.T) {
		res := get(t, env, "GET", path, student, "Range", "bytes=-3").Status(t, 206)
		if string(res.Body) != "789" {
			t.Fatalf("body %q", res.Body)
		}
	})
	t.Run("unsatisfiable range", func(t *testing.T) {
		res := get(t, env, "GET", path, student, "Range", "bytes=20-30").Status(t, 416)
		if got := res.Header.Get("Content-Range"); got != "bytes */10" {
			t.Fatalf("Content-Range %q", got)
		}
	})
	t.Run("If-None-Match", func(t *testing.T) {
		get(t, env, "GET", path, student, "If-None-Match", etag).Status(t, 304)
	})
	t.Run("If-Modified-Since", func(t *testing.T) {
		get(t, env, "GET", path, student, "If-Modified-Since", lastMod).Status(t, 304)
	})
	t.Run("If-Range with a stale validator sends everything", func(t *testing.T) {
		res := get(t, env, "GET", path, student, "Range", "bytes=0-1", "If-Range", `"stale"`).Status(t, 200)
		if len(res.Body) != 10 {
			t.Fatalf("body %q", res.Body)
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		res := get(t, env, "HEAD", path, student).Status(t, 200)
		if len(res.Body) != 0 || res.Header.Get("Content-Length") != "10" || res.Header.Get("ETag") != etag {
			t.Fatalf("HEAD: %q %v", res.Body, res.Header)
		}
	})
	t.Run("other methods", func(t *testing.T) {
		get(t, env, "POST", path, student).Error(t, 405, "Method Not Allowed")
	})
}

func TestPhotos(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	put(t, env, "photos/1_a.png", "png-bytes")
	put(t, env, "photos/2_b.JPG", "jpg")
	put(t, env, "photos/3_c.webp", "webp")
	put(t, env, "photos/4_d.gif", "gif")
	put(t, env, "photos/5_e.txt", "txt")
	put(t, env, "photos/6_f.zzz", "zzz")
	put(t, env, "photos/1_Снимок экрана.png", "old name")
	put(t, env, "lesson_docs/doc.pdf", "doc")
	outside := filepath.Join(t.TempDir(), "secret.png")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	for target, name := range map[string]string{outside: "out.png", "../lesson_docs/doc.pdf": "doc.pdf", "1_a.png": "alias.png"} {
		if err := os.Symlink(target, filepath.Join(env.StaticDir, "photos", name)); err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct{ name, ctype, body string }{
		{"1_a.png", "image/png", "png-bytes"},
		{"2_b.JPG", "image/jpeg", "jpg"},
		{"3_c.webp", "image/webp", "webp"},
		{"4_d.gif", "image/gif", "gif"},
		{"5_e.txt", "text/plain; charset=utf-8", "txt"},
		{"6_f.zzz", "application/octet-stream", "zzz"},
		{"1_%D0%A1%D0%BD%D0%B8%D0%BC%D0%BE%D0%BA%20%D1%8D%D0%BA%D1%80%D0%B0%D0%BD%D0%B0.png", "image/png", "old name"},
		{"alias.png", "image/png", "png-bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := get(t, env, "GET", "/static/photos/"+tc.name, apitest.User{}).Status(t, 200)
			if string(res.Body) != tc.body || res.Header.Get("Content-Type") != tc.ctype {
				t.Fatalf("body %q type %q", res.Body, res.Header.Get("Content-Type"))
			}
			for _, h := range []string{"ETag", "Last-Modified", "Content-Length"} {
				if res.Header.Get(h) == "" {
					t.Fatalf("no %s", h)
				}
			}
			if res.Header.Get("Content-Disposition") != "" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("headers %v", res.Header)
			}
		})
	}
	for _, p := range []string{"missing.png", "", "sub/", "../lesson_docs/doc.pdf", "%2e%2e/lesson_docs/doc.pdf",
		"..%2flesson_docs%2fdoc.pdf", "/etc/passwd", "out.png", "doc.pdf", "1_a.png/"} {
		t.Run("404 "+p, func(t *testing.T) {
			get(t, env, "GET", "/static/photos/"+p, apitest.User{}).Error(t, 404, "Not Found")
		})
	}
	t.Run("range and conditional", func(t *testing.T) {
		res := get(t, env, "GET", "/static/photos/1_a.png", apitest.User{}, "Range", "bytes=0-2").Status(t, 206)
		if string(res.Body) != "png" || res.Header.Get("Content-Range") != "bytes 0-2/9" {
			t.Fatalf("%q %q", res.Body, res.Header.Get("Content-Range"))
		}
		etag := res.Header.Get("ETag")
		get(t, env, "GET", "/static/photos/1_a.png", apitest.User{}, "If-None-Match", etag).Status(t, 304)
		get(t, env, "GET", "/static/photos/1_a.png", apitest.User{}, "Range", "bytes=50-").Status(t, 416)
	})
	t.Run("HEAD", func(t *testing.T) {
		res := get(t, env, "HEAD", "/static/photos/1_a.png", apitest.User{}).Status(t, 200)
		if len(res.Body) != 0 || res.Header.Get("Content-Length") != "9" {
			t.Fatalf("HEAD %q %v", res.Body, res.Header)
		}
	})
	t.Run("other methods", func(t *testing.T) {
		get(t, env, "DELETE", "/static/photos/1_a.png", apitest.User{}).Error(t, 405, "Method Not Allowed")
	})
}

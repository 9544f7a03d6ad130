package lessons_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"platform/internal/apitest"
)

const uploadPath = "/lessons/upload/lesson-file"

func TestUploadLessonFile(t *testing.T) {
	t.Parallel()
	f := setup(t)
	url := regexp.MustCompile(`^/static/lesson_docs/[0-9a-f]{32}\.pdf$`)

	for _, as := range []apitest.User{f.teacher, f.other, f.admin} {
		m := upload(t, f.env, uploadPath, as, text("note", "ignored"), file("file", "Лекция 1.PDF", "%PDF-1.4")).Status(t, 200).Map(t)
		wantKeys(t, m, "url")
		u, _ := m["url"].(string)
		if !url.MatchString(u) {
			t.Fatalf("url %q", u)
		}
		got, err := os.ReadFile(filepath.Join(f.env.StaticDir, strings.TrimPrefix(u, "/static/")))
		if err != nil || string(got) != "%PDF-1.4" {
			t.Fatalf("stored %q %v", got, err)
		}
	}

	for _, tc := range []struct {
		name   string
		as     apitest.User
		parts  []part
		status int
		detail string
	}{
		{"type not allowed", f.teacher, []part{file("file", "run.EXE", "x")}, 400, "Недопустимый тип файла: .exe"},
		{"no extension", f.teacher, []part{file("file", "../../etc/passwd", "x")}, 400, "Недопустимый тип файла: без расширения"},
		{"dot file", f.teacher, []part{file("file", ".bashrc", "x")}, 400, "Недопустимый тип файла: без расширения"},
		{"bad name", f.teacher, []part{file("file", `a.p\df`, "x")}, 400, "Недопустимое имя файла"},
		{"over 50 MiB while streaming", f.teacher, []part{bigFile("file", "big.mp4", 50<<20+1)}, 413, "Файл слишком большой (до 50 МБ)"},
		{"student", f.student, []part{file("file", "a.pdf", "x")}, 403, "Доступ воспрещен: только для преподавателей"},
		{"no token", apitest.User{}, []part{file("file", "a.pdf", "x")}, 401, "Not authenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.files(t, "lesson_docs"))
			upload(t, f.env, uploadPath, tc.as, tc.parts...).Error(t, tc.status, tc.detail)
			if after := len(f.files(t, "lesson_docs")); after != before {
				t.Fatalf("files %d → %d", before, after)
			}
		})
	}
	t.Run("exactly 50 MiB", func(t *testing.T) {
		upload(t, f.env, uploadPath, f.teacher, bigFile("file", "big.mp4", 50<<20)).Status(t, 200)
	})
	t.Run("422: no file", func(t *testing.T) {
		is := upload(t, f.env, uploadPath, f.teacher, text("other", "x")).HasIssue(t, "missing", "body.file")
		if is.Input != nil {
			t.Fatalf("input %v", is.Input)
		}
		f.env.Do(t, "POST", uploadPath, f.teacher, nil).HasIssue(t, "missing", "body.file")
	})
	t.Run("422: a text field", func(t *testing.T) {
		upload(t, f.env, uploadPath, f.teacher, text("file", "not a file")).HasIssue(t, "value_error", "body.file")
	})
}

// TestUploadDownloadMemory measures how much the process's peak RSS
// (VmHWM) grows while a 50 MiB lesson file is uploaded and then downloaded.
// Both bodies are generated and consumed as streams, so any growth is the
// server's. Run alone: MEASURE_RSS=1 go test -run TestUploadDownloadMemory -v
func TestUploadDownloadMemory(t *testing.T) {
	if os.Getenv("MEASURE_RSS") == "" {
		t.Skip("set MEASURE_RSS=1 to measure")
	}
	f := setup(t)
	const size = 50 << 20

	before := vmHWM(t)
	m := upload(t, f.env, uploadPath, f.teacher, bigFile("file", "big.mp4", size)).Status(t, 200).Map(t)
	afterUpload := vmHWM(t)

	req, _ := http.NewRequest("GET", f.env.Server.URL+"/files/download"+strings.TrimPrefix(m["url"].(string), "/static"), nil)
	req.Header.Set("Authorization", "Bearer "+f.teacher.Token)
	res, err := f.env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || n != size {
		t.Fatalf("download: %d, %d bytes", res.StatusCode, n)
	}
	afterDownload := vmHWM(t)
	t.Logf("VmHWM before %d KiB; 50 MiB upload +%d KiB; 50 MiB download +%d KiB",
		before, afterUpload-before, afterDownload-afterUpload)
	if afterUpload-before > 16<<10 || afterDownload-afterUpload > 16<<10 {
		t.Fatal("peak memory grew with the file size")
	}
}

// vmHWM is the process's peak resident set size in KiB.
func vmHWM(t *testing.T) int64 {
	t.Helper()
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc")
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(rest)), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatal(fmt.Errorf("VmHWM not found"))
	return 0
}

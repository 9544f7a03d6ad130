package lessons_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// BenchmarkGradebook300x50 measures the gradebook of issue 15's size: 300
// students × 50 lessons, every cell filled (homework on even lessons with
// an older resubmission, tests on odd ones). Besides ns/op it reports the
// growth of the process's peak RSS over the run (server and client share
// the process; the client only holds one file at a time). Run it alone and
// without -race, which multiplies both: `make gobench ARGS='-bench Gradebook'`.
func BenchmarkGradebook300x50(b *testing.B) {
	env := apitest.New(b)
	teacher := env.User(b, auth.Teacher)
	module := env.ID(b, `INSERT INTO modules (title) VALUES ('Модуль') RETURNING id`)
	subject := env.ID(b, `INSERT INTO subjects (module_id, teacher_id, title) VALUES ($1, $2, 'Математика') RETURNING id`, module, teacher.ID)
	group := env.ID(b, `INSERT INTO groups (name) VALUES ('Поток') RETURNING id`)
	env.Exec(b, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, module, group)
	env.Exec(b, `INSERT INTO users (full_name, iin, role, hashed_password)
		SELECT 'Студентов Студент ' || i, '5' || lpad(i::text, 11, '0'), 'student', 'x' FROM generate_series(1, 300) i`)
	env.Exec(b, `INSERT INTO user_group (user_id, group_id) SELECT id, $1 FROM users WHERE role = 'student'`, group)
	env.Exec(b, `INSERT INTO lessons (subject_id, title, type, content_url)
		SELECT $1, 'Урок ' || i, 'video', '' FROM generate_series(1, 50) i`, subject)
	for _, at := range []string{"2025-06-04", "2025-06-05"} {
		env.Exec(b, `INSERT INTO lesson_submissions (lesson_id, user_id, grade, submitted_at)
			SELECT l.id, u.id, (l.id + u.id) % 5 + 1, $2::timestamp FROM lessons l, users u
			WHERE l.subject_id = $1 AND u.role = 'student' AND l.id % 2 = 0`, subject, at)
	}
	env.Exec(b, `INSERT INTO results (user_id, lesson_id, score, submitted_at)
		SELECT u.id, l.id, ((l.id * 7 + u.id) % 10000) / 100.0, now() FROM lessons l, users u
		WHERE l.subject_id = $1 AND u.role = 'student' AND l.id % 2 = 1`, subject)
	env.Exec(b, `ANALYZE`)

	for _, format := range []string{"xlsx", "csv"} {
		b.Run(format, func(b *testing.B) {
			url := fmt.Sprintf("%s/lessons/subjects/%d/gradebook?format=%s", env.Server.URL, subject, format)
			get := func() int {
				req, _ := newGet(url, teacher.Token)
				res, err := env.Server.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				defer res.Body.Close()
				body, err := io.ReadAll(res.Body)
				if err != nil || res.StatusCode != 200 {
					b.Fatalf("status %d: %v", res.StatusCode, err)
				}
				return len(body)
			}
			size := get() // warm up: connections, plans
			resetPeakRSS(b)
			base := procStatusKB(b, "VmRSS")
			b.ReportAllocs()
			for b.Loop() {
				get()
			}
			b.ReportMetric(float64(procStatusKB(b, "VmHWM")-base)/1024, "MB-peak-RSS-growth")
			b.ReportMetric(float64(size)/1024, "KB-file")
		})
	}
}

func newGet(url, token string) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err == nil {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, err
}

// resetPeakRSS resets VmHWM to the current RSS (Linux: clear_refs value 5).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak RSS: %v", err)
	}
}

// procStatusKB reads a "kB" field of /proc/self/status.
func procStatusKB(b *testing.B, field string) int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if ok && name == field {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}

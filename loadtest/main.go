// Command loadtest drives a running server through the scenarios of
// loadtest/README.md (-scenario, a comma-separated list, run in order):
//
//	browse     every virtual user logs in once as its own student, then loops over
//	           GET /, /auth/check, /access/my-modules, /lessons/student/grades (1:3:5:4)
//	original   the original's Locust scenario exactly: every virtual user logs in
//	           with ONE account at once (no retry), then the same loop with 1–3 s pauses
//	classroom  60 distinct students log in at the same instant
//	flood      12 connections flood /auth/token with random usernames from one
//	           address while legitimate logins come from other addresses
//	import     a 1,000-row Excel import with logins during it, then one whose client
//	           disconnects mid-way, read back from GET /admin/groups/imports/{id}
//
// With -seed it first fills an empty database with a realistic course tree,
// students and an admin. It sends traffic only to the -base URL, which must be
// on 127.0.0.1, and each scenario stops by itself.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type options struct {
	base          string
	users         int
	originalUsers int
	duration      time.Duration
	think         time.Duration
	seedURL       string
	password      string
	scenarios     string
}

// seededStudents is how many students -seed creates at least: the classroom
// (1–60) and the flood's and import's legitimate logins (61–140) use their own.
const seededStudents = 140

func run() error {
	var o options
	flag.StringVar(&o.base, "base", "http://127.0.0.1:8000", "server URL (loopback only)")
	flag.IntVar(&o.users, "users", 50, "virtual users (each logs in as its own seeded student)")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long to send traffic")
	flag.DurationVar(&o.think, "think", 0, "pause between a user's requests (Locust used 1-3 s; 0 measures throughput)")
	flag.StringVar(&o.seedURL, "seed", "", "seed this (migrated, empty) database first")
	flag.StringVar(&o.password, "password", "load-test-pass", "password of the seeded students and admin")
	flag.IntVar(&o.originalUsers, "original-users", 40, "virtual users of the original scenario (all with one account)")
	flag.StringVar(&o.scenarios, "scenario", "browse,original,classroom,flood,import", "scenarios to run, in order")
	flag.Parse()

	u, err := url.Parse(o.base)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1") {
		return fmt.Errorf("-base must be a loopback URL, got %q", o.base)
	}
	ctx := context.Background()
	if o.seedURL != "" {
		start := time.Now()
		n := max(o.users, seededStudents)
		if err := seed(ctx, o.seedURL, n, o.password); err != nil {
			return err
		}
		fmt.Printf("seeded %d students in %s\n", n, time.Since(start).Round(time.Millisecond))
	}
	var failed []string
	for _, name := range strings.Split(o.scenarios, ",") {
		var err error
		fmt.Printf("\n== scenario %s\n", name)
		switch strings.TrimSpace(name) {
		case "browse":
			err = browse(ctx, o)
		case "original":
			err = original(ctx, o)
		case "classroom":
			err = classroom(ctx, o)
		case "flood":
			err = flood(ctx, o)
		case "import":
			err = importScenario(ctx, o)
		default:
			err = fmt.Errorf("unknown scenario %q", name)
		}
		if err != nil {
			fmt.Printf("scenario %s FAILED: %v\n", name, err)
			failed = append(failed, name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("failed scenarios: %s", strings.Join(failed, ", "))
	}
	return nil
}

// seed builds 4 modules × 5 subjects × 8 lessons, 4 groups linked to the
// modules, and the students, each with homework and test results, so the
// hot reads return realistic trees.
func seed(ctx context.Context, dbURL string, students int, password string) error {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), 12)
	if err != nil {
		return err
	}
	const q = `
WITH g AS (INSERT INTO groups (name) SELECT 'LT-' || i FROM generate_series(1, 4) i RETURNING id, name),
     t AS (INSERT INTO users (full_name, iin, role, hashed_password)
           VALUES ('Преподаватель Нагрузка', '800000000001', 'teacher', $1),
                  ('Администратор Нагрузка', '800000000002', 'admin', $1) RETURNING id),
     m AS (INSERT INTO modules (title, course, created_at)
           SELECT 'Модуль ' || i, (i % 4 + 1)::text, now() AT TIME ZONE 'UTC' FROM generate_series(1, 4) i RETURNING id)
SELECT (SELECT count(*) FROM g) + (SELECT count(*) FROM t) + (SELECT count(*) FROM m)`
	var n int
	if err := pool.QueryRow(ctx, q, string(hash)).Scan(&n); err != nil {
		return fmt.Errorf("seed groups/modules: %w", err)
	}
	steps := []string{
		`INSERT INTO module_group (module_id, group_id)
		 SELECT m.id, g.id FROM modules m JOIN groups g ON g.id % 4 = m.id % 4 OR g.id % 4 = (m.id + 1) % 4`,
		`INSERT INTO subjects (module_id, teacher_id, title)
		 SELECT m.id, (SELECT id FROM users WHERE iin = '800000000001'), 'Предмет ' || m.id || '.' || i
		 FROM modules m, generate_series(1, 5) i`,
		`INSERT INTO lessons (subject_id, title, type, content_url, created_at)
		 SELECT s.id, 'Урок ' || i, CASE WHEN i % 3 = 0 THEN 'pdf' ELSE 'video' END,
		        'https://video.example/' || s.id || '/' || i, now() AT TIME ZONE 'UTC'
		 FROM subjects s, generate_series(1, 8) i`,
		`INSERT INTO users (full_name, iin, role, hashed_password)
		 SELECT 'Студент Нагрузка ' || i, '7' || lpad(i::text, 11, '0'), 'student', $1 FROM generate_series(1, $2::int) i`,
		`INSERT INTO user_group (user_id, group_id)
		 SELECT u.id, (SELECT min(id) FROM groups) + u.id % 4 FROM users u WHERE u.role = 'student'`,
		`INSERT INTO tests (title, subject_id, lesson_id)
		 SELECT 'Тест ' || l.id, l.subject_id, l.id FROM lessons l WHERE l.title = 'Урок 8'`,
		`INSERT INTO lesson_submissions (lesson_id, user_id, comment, grade, submitted_at)
		 SELECT l.id, u.id, 'Готово', 5, now() AT TIME ZONE 'UTC'
		 FROM users u JOIN lessons l ON l.title IN ('Урок 1', 'Урок 2') WHERE u.role = 'student'`,
		`INSERT INTO results (user_id, lesson_id, test_id, score)
		 SELECT u.id, t.lesson_id, t.id, 66.67 FROM users u, tests t WHERE u.role = 'student' AND t.id % 3 = 0`,
	}
	for i, s := range steps {
		args := []any{}
		if strings.Contains(s, "$2") {
			args = []any{string(hash), students}
		}
		if _, err := pool.Exec(ctx, s, args...); err != nil {
			return fmt.Errorf("seed step %d: %w", i+1, err)
		}
	}
	return nil
}

type sample struct {
	name string
	dur  time.Duration
	code int
	err  error
}

var scenario = []struct {
	name, path string
	weight     int
	auth       bool
}{
	{"GET /", "/", 1, false},
	{"GET /auth/check", "/auth/check", 3, true},
	{"GET /access/my-modules", "/access/my-modules", 5, true},
	{"GET /lessons/student/grades", "/lessons/student/grades", 4, true},
}

// browse: every virtual user logs in once as its own student (a login shed
// with 503 is retried after Retry-After), then loops over the reads.
func browse(ctx context.Context, o options) error {
	client := newClient(o.users)
	var weighted []int
	for i, s := range scenario {
		for range s.weight {
			weighted = append(weighted, i)
		}
	}
	samples := make(chan sample, 4096)
	var all []sample
	collected := make(chan struct{})
	go func() {
		for s := range samples {
			all = append(all, s)
		}
		close(collected)
	}()

	deadline := time.Now().Add(o.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 1; i <= o.users; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			iin := fmt.Sprintf("7%011d", i) // as seeded
			// Like a real client, a login shed with 503 is retried after
			// Retry-After; every attempt is reported.
			var token string
			for attempt := 0; attempt < 30 && time.Now().Before(deadline); attempt++ {
				var s sample
				token, s = login(ctx, client, o.base, iin, o.password, "")
				if s.code == http.StatusServiceUnavailable {
					s.name = "POST /auth/login (503, retried)"
					samples <- s
					time.Sleep(time.Second)
					continue
				}
				samples <- s
				break
			}
			if token == "" {
				return
			}
			for time.Now().Before(deadline) {
				sc := scenario[weighted[rand.IntN(len(weighted))]]
				tok := ""
				if sc.auth {
					tok = token
				}
				samples <- get(ctx, client, sc.name, o.base+sc.path, tok)
				if o.think > 0 {
					time.Sleep(o.think)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(samples)
	<-collected
	return report(all, elapsed, true)
}

// login posts /auth/login; from, when set, is sent as X-Forwarded-For (the
// server believes it from loopback, its default trusted proxy).
func login(ctx context.Context, c *http.Client, base, iin, password, from string) (string, sample) {
	body := fmt.Sprintf(`{"iin":%q,"password":%q}`, iin, password)
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/auth/login", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if from != "" {
		req.Header.Set("X-Forwarded-For", from)
	}
	t := time.Now()
	res, err := c.Do(req)
	s := sample{name: "POST /auth/login", dur: time.Since(t), err: err}
	if err != nil {
		return "", s
	}
	defer res.Body.Close()
	s.code = res.StatusCode
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil && s.err == nil {
		s.err = err
	}
	s.dur = time.Since(t)
	return out.AccessToken, s
}

func get(ctx context.Context, c *http.Client, name, url, token string) sample {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	t := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return sample{name: name, dur: time.Since(t), err: err}
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return sample{name: name, dur: time.Since(t), code: res.StatusCode, err: err}
}

// report prints requests, failures and latency per endpoint; a 503 counts as
// a failure unless allow503 (a shed login the client retried).
func report(all []sample, elapsed time.Duration, allow503 bool) error {
	byName := map[string][]sample{}
	var names []string
	failures := 0
	for _, s := range all {
		if _, ok := byName[s.name]; !ok {
			names = append(names, s.name)
		}
		byName[s.name] = append(byName[s.name], s)
	}
	slices.Sort(names)
	fmt.Printf("%-30s %8s %8s %9s %9s %9s %9s\n", "endpoint", "requests", "failed", "req/s", "p50 ms", "p95 ms", "p99 ms")
	total := 0
	for _, n := range names {
		ss := byName[n]
		durs := make([]time.Duration, len(ss))
		failed := 0
		for i, s := range ss {
			durs[i] = s.dur
			if s.err != nil || s.code != http.StatusOK && !(allow503 && s.code == http.StatusServiceUnavailable) {
				failed++
			}
		}
		slices.Sort(durs)
		pct := func(p float64) float64 {
			return float64(durs[int(p*float64(len(durs)-1))].Microseconds()) / 1000
		}
		fmt.Printf("%-30s %8d %8d %9.1f %9.2f %9.2f %9.2f\n", n, len(ss), failed,
			float64(len(ss))/elapsed.Seconds(), pct(0.50), pct(0.95), pct(0.99))
		total += len(ss)
		failures += failed
	}
	fmt.Printf("total %d requests in %s (%.0f req/s), %d failed\n", total, elapsed.Round(time.Millisecond),
		float64(total)/elapsed.Seconds(), failures)
	if failures > 0 {
		return errors.New("some requests failed")
	}
	return nil
}

// Command bench measures the hot reads against their PostgreSQL ceiling
// (issue 12), for `make bench` (loadtest/bench.sh starts the server and the
// database). It seeds the benchmark data set into an empty migrated
// database — 10 modules × 5 subjects × 10 lessons, one student who reads
// them all, 50 graded homeworks, 5 tests with results — then, endpoint by
// endpoint:
//
//   - throughput: wrk -t 2 -c 8 for -duration, the issue's own measure:
//     the req/s column. wrk is C and cheap per request, so on a 2-core
//     machine it leaves the server more of the CPU than a Go client
//     would; without wrk on PATH (bench.sh installs it), -conns Go
//     workers send back to back instead and the table says so;
//   - latency: an open-loop attack at a fixed rate (-load, 25 % of that
//     throughput) with vegeta, so a slow response does not delay the next
//     request and latency is not understated (coordinated omission);
//     p50/p99 come from it;
//   - the ceiling: pgbench -M prepared -c 8 -j 2 on the same database, in
//     the same sitting, with the endpoint's own statements as the port
//     would run them without its caches (one per result set, the user
//     lookup included): the tps column.
//
// Then my-modules again at 64 connections for its p99, and the server's
// RSS (VmRSS now, VmHWM peak) from /proc. Traffic goes only to loopback.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/crypto/bcrypt"

	"platform/internal/auth"
	"platform/internal/catalog"
	"platform/internal/grades"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	base, dbURL, pgbench, workDir string
	wrk                           string
	pid, conns                    int
	duration                      time.Duration
	load                          float64
}

func run() error {
	var o options
	flag.StringVar(&o.base, "base", "http://127.0.0.1:18001", "server URL (loopback only)")
	flag.StringVar(&o.dbURL, "db", "", "the server's database (migrated, empty: it is seeded)")
	flag.StringVar(&o.pgbench, "pgbench", "/usr/lib/postgresql/15/bin/pgbench", "pgbench binary")
	flag.StringVar(&o.workDir, "dir", os.TempDir(), "where the pgbench scripts are written")
	flag.IntVar(&o.pid, "pid", 0, "server process id (for its RSS)")
	flag.IntVar(&o.conns, "conns", 8, "connections for throughput and for pgbench")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "each measurement's length")
	flag.Float64Var(&o.load, "load", 0.25, "open-loop rate as a fraction of the measured throughput")
	flag.StringVar(&o.wrk, "wrk", "wrk", "wrk binary for the throughput column; \"\" or not found: Go workers")
	flag.Parse()
	u, err := url.Parse(o.base)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return fmt.Errorf("-base must be a loopback URL, got %q", o.base)
	}
	ctx := context.Background()
	ds, err := seed(ctx, o.dbURL)
	if err != nil {
		return err
	}
	token, err := login(o.base, ds.iin, ds.password)
	if err != nil {
		return err
	}
	endpoints := []endpoint{
		{name: "GET /", path: "/"},
		{name: "GET /auth/check", path: "/auth/check", auth: true, sql: []string{userSQL(ds.iin)}},
		{name: "GET /access/my-modules", path: "/access/my-modules", auth: true, sql: myModulesSQL(ds), goal: 1.0},
		{name: "GET /lessons/student/grades", path: "/lessons/student/grades", auth: true, sql: []string{userSQL(ds.iin), gradesSQL(ds.userID)}, goal: 0.6},
	}
	endpoints[1].goal = 0.5
	throughput := func(u string, hdr http.Header) (float64, error) {
		return closedLoop(u, hdr, o.conns, o.duration), nil
	}
	generator := fmt.Sprintf("%d Go workers", o.conns)
	if path, err := exec.LookPath(o.wrk); o.wrk != "" && err == nil {
		throughput = func(u string, hdr http.Header) (float64, error) { return wrkRate(path, u, hdr, o.conns, o.duration) }
		generator = fmt.Sprintf("wrk -c %d", o.conns)
	}
	fmt.Printf("load average at start: %s\n", loadavg())
	for i := range endpoints {
		e := &endpoints[i]
		hdr := http.Header{}
		if e.auth {
			hdr.Set("Authorization", "Bearer "+token)
		}
		size, err := bodySize(o.base+e.path, hdr)
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		e.bytes = size
		if e.rps, err = throughput(o.base+e.path, hdr); err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		e.p50, e.p99, e.errors = openLoop(o.base+e.path, hdr, e.rps*o.load, o.duration)
		if len(e.sql) > 0 {
			if e.tps, err = pgbenchTPS(o, e); err != nil {
				return fmt.Errorf("%s: pgbench: %w", e.name, err)
			}
		}
		fmt.Fprintf(os.Stderr, "  measured %s\n", e.name)
	}
	hdr := http.Header{"Authorization": {"Bearer " + token}}
	_, p99at64, errs64 := closedLoopLatency(o.base+"/access/my-modules", hdr, 64, o.duration)
	fmt.Printf("load average at end: %s\n\n", loadavg())

	fmt.Printf("| endpoint | body | port req/s (%s) | ceiling tps (pgbench -c %d) | ratio | goal | p50 / p99 (open loop at %.0f %%) |\n",
		generator, o.conns, 100*o.load)
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, e := range endpoints {
		ceiling, ratio, goal := "—", "—", "—"
		if e.tps > 0 {
			ceiling = fmt.Sprintf("%.0f", e.tps)
			ratio = fmt.Sprintf("%.2f", e.rps/e.tps)
		}
		if e.goal > 0 {
			goal = fmt.Sprintf("≥ %.1f", e.goal)
		}
		fmt.Printf("| `%s` | %s | %.0f | %s | %s | %s | %s / %s%s |\n", e.name, kb(e.bytes), e.rps, ceiling, ratio, goal,
			ms(e.p50), ms(e.p99), errNote(e.errors))
	}
	fmt.Printf("\nmy-modules at 64 connections: p99 %s%s\n", ms(p99at64), errNote(errs64))
	if o.pid != 0 {
		fmt.Printf("server RSS: %s now, %s peak\n", procStatus(o.pid, "VmRSS"), procStatus(o.pid, "VmHWM"))
	}
	return nil
}

type endpoint struct {
	name, path string
	auth       bool
	sql        []string
	goal       float64
	bytes      int
	rps, tps   float64
	p50, p99   time.Duration
	errors     uint64
}

// dataset is what the seed made.
type dataset struct {
	iin, password string
	userID        int32
	moduleIDs     []int32
	subjectIDs    []int32
}

// seed fills the benchmark data set in one transaction.
func seed(ctx context.Context, dbURL string) (dataset, error) {
	ds := dataset{iin: "700000000001", password: "bench-pass"}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return ds, err
	}
	defer conn.Close(ctx)
	hash, err := bcrypt.GenerateFromPassword([]byte(ds.password), bcrypt.MinCost)
	if err != nil {
		return ds, err
	}
	steps := []string{
		`INSERT INTO users (full_name, iin, role, hashed_password) VALUES ('Преподаватель Бенчмарк', '800000000001', 'teacher', $1)`,
		`INSERT INTO users (full_name, iin, role, hashed_password) VALUES ('Студентова Айгерим Бенчмарковна', $2, 'student', $1)`,
		`INSERT INTO groups (name) VALUES ('БЕНЧ-1')`,
		`INSERT INTO user_group (user_id, group_id) SELECT u.id, g.id FROM users u, groups g WHERE u.iin = $2`,
		`INSERT INTO modules (title, course, description, created_at)
		 SELECT 'Модуль ' || i || ': программирование и анализ данных', (i % 4 + 1)::text,
		        'Описание модуля ' || i || ' — лекции, практика и домашние задания', now() AT TIME ZONE 'UTC'
		 FROM generate_series(1, 10) i`,
		`INSERT INTO module_group (module_id, group_id) SELECT m.id, g.id FROM modules m, groups g`,
		`INSERT INTO subjects (module_id, teacher_id, title)
		 SELECT m.id, (SELECT id FROM users WHERE iin = '800000000001'), 'Дисциплина ' || m.id || '.' || i || ' «Алгоритмы»'
		 FROM modules m, generate_series(1, 5) i`,
		`INSERT INTO lessons (subject_id, title, description, type, content_url, created_at)
		 SELECT s.id, 'Урок ' || i || ': сортировка слиянием', 'Лекция и разбор задач, часть ' || i,
		        CASE WHEN i % 3 = 0 THEN 'pdf' ELSE 'video' END,
		        'https://video.example.com/courses/' || s.id || '/lessons/' || i || '.mp4', now() AT TIME ZONE 'UTC'
		 FROM subjects s, generate_series(1, 10) i`,
		`INSERT INTO lesson_submissions (lesson_id, user_id, comment, grade, submitted_at)
		 SELECT l.id, (SELECT id FROM users WHERE iin = $2), 'Готово', 4 + l.id % 2, now() AT TIME ZONE 'UTC'
		 FROM lessons l ORDER BY l.id LIMIT 50`,
		`INSERT INTO tests (title, subject_id, lesson_id)
		 SELECT 'Тест по уроку ' || l.id, l.subject_id, l.id FROM lessons l ORDER BY l.id DESC LIMIT 5`,
		`INSERT INTO results (user_id, lesson_id, test_id, score, submitted_at)
		 SELECT (SELECT id FROM users WHERE iin = $2), t.lesson_id, t.id, 66.67, now() FROM tests t`,
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for i, s := range steps {
			var args []any
			if strings.Contains(s, "$1") {
				args = append(args, string(hash))
			}
			if strings.Contains(s, "$2") {
				args = append(args, ds.iin)
			}
			if strings.Contains(s, "$2") && !strings.Contains(s, "$1") {
				s = strings.ReplaceAll(s, "$2", "$1")
			}
			if _, err := tx.Exec(ctx, s, args...); err != nil {
				return fmt.Errorf("seed step %d: %w", i+1, err)
			}
		}
		return nil
	})
	if err != nil {
		return ds, err
	}
	if err := conn.QueryRow(ctx, `SELECT id FROM users WHERE iin = $1`, ds.iin).Scan(&ds.userID); err != nil {
		return ds, err
	}
	for q, dst := range map[string]*[]int32{`SELECT id FROM modules ORDER BY id`: &ds.moduleIDs, `SELECT id FROM subjects ORDER BY id`: &ds.subjectIDs} {
		rows, _ := conn.Query(ctx, q)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return ds, err
		}
		*dst = ids
	}
	_, err = conn.Exec(ctx, `ANALYZE`)
	return ds, err
}

func login(base, iin, password string) (string, error) {
	body := fmt.Sprintf(`{"iin":%q,"password":%q}`, iin, password)
	res, err := http.Post(base+"/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.AccessToken == "" {
		return "", fmt.Errorf("login: status %d: %v", res.StatusCode, err)
	}
	return out.AccessToken, nil
}

func bodySize(u string, hdr http.Header) (int, error) {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header = hdr.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return 0, fmt.Errorf("status %d: %s", res.StatusCode, b)
	}
	return len(b), err
}

// client is a keep-alive client with enough idle connections for conns.
func client(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
}

// closedLoop is wrk's measure: conns workers sending back to back; req/s.
func closedLoop(u string, hdr http.Header, conns int, d time.Duration) float64 {
	n, _, _ := closedLoopLatency(u, hdr, conns, d)
	return n
}

// closedLoopLatency runs conns back-to-back workers for d: req/s, p99, errors.
func closedLoopLatency(u string, hdr http.Header, conns int, d time.Duration) (float64, time.Duration, uint64) {
	c := client(conns)
	var done, failed atomic.Uint64
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest("GET", u, nil)
				req.Header = hdr
				start := time.Now()
				res, err := c.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				mine = append(mine, time.Since(start))
				if err != nil {
					failed.Add(1)
				} else {
					done.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	var m vegeta.Metrics
	for _, l := range lat {
		m.Latencies.Add(l)
	}
	return float64(done.Load()) / d.Seconds(), m.Latencies.Quantile(0.99), failed.Load()
}

var (
	wrkRateRe   = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkErrorsRe = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)`)
)

// wrkRate runs wrk -t 2 -c conns for d and returns its req/s; any non-2xx
// answer or socket error fails the measurement (a rate of errors is no rate).
func wrkRate(wrk, u string, hdr http.Header, conns int, d time.Duration) (float64, error) {
	args := []string{"-t", "2", "-c", strconv.Itoa(conns), "-d", fmt.Sprintf("%ds", int(d.Seconds()))}
	for k, vs := range hdr {
		for _, v := range vs {
			args = append(args, "-H", k+": "+v)
		}
	}
	out, err := exec.Command(wrk, append(args, u)...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("wrk: %w: %s", err, out)
	}
	if m := wrkErrorsRe.FindSubmatch(out); m != nil {
		return 0, fmt.Errorf("wrk saw errors: %s", m[0])
	}
	m := wrkRateRe.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no Requests/sec in wrk output: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// openLoop attacks at a fixed rate with vegeta: p50, p99 and failures.
func openLoop(u string, hdr http.Header, rate float64, d time.Duration) (time.Duration, time.Duration, uint64) {
	if rate < 1 {
		rate = 1
	}
	targeter := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: u, Header: hdr})
	attacker := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.MaxWorkers(256), vegeta.Connections(64))
	var m vegeta.Metrics
	for res := range attacker.Attack(targeter, vegeta.Rate{Freq: int(rate), Per: time.Second}, d, "bench") {
		m.Add(res)
	}
	m.Close()
	var failed uint64
	for code, n := range m.StatusCodes {
		if code != "200" {
			failed += uint64(n)
		}
	}
	return m.Latencies.P50, m.Latencies.P99, failed
}

var tpsRe = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbenchTPS runs the endpoint's statements as one pgbench transaction.
func pgbenchTPS(o options, e *endpoint) (float64, error) {
	script := filepath.Join(o.workDir, "bench-"+strings.NewReplacer("/", "_", " ", "").Replace(e.path)+".sql")
	if err := os.WriteFile(script, []byte(strings.Join(e.sql, ";\n")+";\n"), 0o600); err != nil {
		return 0, err
	}
	cmd := exec.Command(o.pgbench, "-n", "-M", "prepared", "-c", strconv.Itoa(o.conns), "-j", "2",
		"-T", strconv.Itoa(int(o.duration.Seconds())), "-f", script, o.dbURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, out)
	}
	m := tpsRe.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no tps in: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// The endpoints' statements as the port runs them without its caches: the
// production constants themselves, so the ceiling follows every change to
// them. pgbench runs a plain script, so bind writes the arguments in.

func userSQL(iin string) string {
	return bind(auth.SelectUser+`WHERE iin = $1`, quote(iin)) // Repo.UserByIIN
}

func myModulesSQL(ds dataset) []string {
	uid := strconv.Itoa(int(ds.userID))
	return []string{
		userSQL(ds.iin),
		// A student's unpaged tree: every module they read, then its
		// subjects they read, then their lessons.
		bind(catalog.ModulesSQL, "true", "'{}'", uid, "0", "0"),
		bind(catalog.SubjectsOfModulesSQL, quote(intArray(ds.moduleIDs)), uid),
		bind(catalog.LessonsOfSQL, quote(intArray(ds.subjectIDs))),
	}
}

func gradesSQL(userID int32) string {
	return bind(grades.SummarySQL, strconv.Itoa(int(userID)))
}

var placeholder = regexp.MustCompile(`\$[0-9]+`)

// bind replaces $1, $2, … in sql with args, which are SQL literals.
func bind(sql string, args ...string) string {
	return placeholder.ReplaceAllStringFunc(sql, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		return args[n-1]
	})
}

// quote is s as a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func intArray(ids []int32) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(int(id))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func procStatus(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func kb(n int) string { return fmt.Sprintf("%.1f KB", float64(n)/1000) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func errNote(n uint64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d failed)", n)
}

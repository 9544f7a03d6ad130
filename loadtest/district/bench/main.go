// Command bench measures one data set of issue 20 (loadtest/district/bench.sh
// runs it against SMALL and DISTRICT in one sitting and prints both): the
// paged lists, the full and the per-student course trees, a module delete,
// the overview and the orphan sweep, each as p50/p99, req/s, statements and
// shared blocks per request (pg_stat_statements), response size; the
// server's peak RSS (VmHWM) at the end. It prints one JSON object.
// Traffic goes only to loopback.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/internal/db"
	"platform/internal/orphans"
	"platform/internal/storage"
)

// Row is one line of the table.
type Row struct {
	What       string  `json:"what"`
	P50, P99   float64 // ms
	RPS        float64
	Statements float64 // per request
	Blocks     float64 // shared blocks hit + read per request
	Bytes      int
	Note       string
}

type bench struct {
	base     string
	conn     *pgx.Conn
	client   *http.Client
	admin    string
	duration time.Duration
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	base := flag.String("base", "http://127.0.0.1:18002", "server URL (loopback)")
	dbURL := flag.String("db", "", "the data set's database")
	pid := flag.Int("pid", 0, "server pid (peak RSS)")
	static := flag.String("static", "", "a scratch static root for the sweep")
	teachers := flag.Int("teachers", 30, "teachers in the set (students follow them)")
	students := flag.Int("students", 600, "students in the set")
	dur := flag.Duration("duration", 5*time.Second, "each throughput measurement")
	table := flag.Bool("table", false, "print the table of two result files (SMALL DISTRICT) and exit")
	flag.Parse()
	if *table {
		return printTable(flag.Arg(0), flag.Arg(1))
	}
	if !strings.HasPrefix(*base, "http://127.0.0.1:") {
		return fmt.Errorf("-base must be on 127.0.0.1")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return err
	}
	b := &bench{base: *base, conn: conn, duration: *dur,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 120 * time.Second}}
	if b.admin, err = b.login(iin(1)); err != nil {
		return err
	}
	// 200 different students, one per group where the set has enough groups.
	firstStudent := 2 + *teachers
	var tokens []string
	for k := range 200 {
		tok, err := b.login(iin(firstStudent + k*(*students/200|1))) // an odd stride: students of many groups
		if err != nil {
			return err
		}
		tokens = append(tokens, tok)
	}
	var rows []Row
	add := func(r Row, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", r.What, err)
		}
		fmt.Fprintf(os.Stderr, "  %-40s p50 %7.1f ms  p99 %7.1f ms  %7.0f req/s  %5.1f stmts  %8.0f blocks  %9d B %s\n",
			r.What, r.P50, r.P99, r.RPS, r.Statements, r.Blocks, r.Bytes, r.Note)
		rows = append(rows, r)
		return nil
	}
	admin1 := []string{b.admin}
	steps := []func() error{
		func() error {
			return add(b.measure("GET /admin/users/?limit=50", "GET", "/admin/users/?limit=50", admin1, 8))
		},
		func() error {
			return add(b.measure("GET /admin/users/?limit=50&offset=5000", "GET", "/admin/users/?limit=50&offset=5000", admin1, 8))
		},
		func() error {
			// A deep page by keyset: the 50 users after the 100 last.
			var after int
			if err := conn.QueryRow(ctx, `SELECT max(id) - 100 FROM users`).Scan(&after); err != nil {
				return err
			}
			return add(b.measure("GET /admin/users/?limit=50&after_id=(max−100)", "GET", fmt.Sprintf("/admin/users/?limit=50&after_id=%d", after), admin1, 8))
		},
		func() error {
			return add(b.measure("GET /admin/modules/?limit=10", "GET", "/admin/modules/?limit=10", admin1, 8))
		},
		func() error {
			return add(b.measure("GET /access/access-overview?limit=50", "GET", "/access/access-overview?limit=50", admin1, 8))
		},
		func() error {
			return add(b.measure("GET /access/access-overview (all)", "GET", "/access/access-overview", admin1, 2))
		},
		func() error {
			return add(b.measure("GET /access/admin-modules (full tree)", "GET", "/access/admin-modules", admin1, 1))
		},
		func() error {
			return add(b.measure("  the same, 8 at once", "GET", "/access/admin-modules", admin1, 8))
		},
		func() error {
			return add(b.measure("GET /access/my-modules, one student", "GET", "/access/my-modules", tokens[:1], 8))
		},
		func() error {
			return add(b.measure("GET /access/my-modules, 200 students", "GET", "/access/my-modules", tokens, 8))
		},
		func() error {
			return add(b.measure("GET /lessons/student/grades, 200 students", "GET", "/lessons/student/grades", tokens, 8))
		},
		func() error { return add(b.deleteModule()) },
		func() error { return add(b.sweep(ctx, *dbURL, *static)) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	rss := peakRSS(*pid)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"rows": rows, "peak_rss_kb": rss})
}

func iin(id int) string { return fmt.Sprintf("%012d", id) }

func (b *bench) login(iin string) (string, error) {
	res, err := b.client.Post(b.base+"/auth/login", "application/json",
		strings.NewReader(fmt.Sprintf(`{"iin":%q,"password":"bench-password"}`, iin)))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 || out.AccessToken == "" {
		return "", fmt.Errorf("login %s: status %d %v", iin, res.StatusCode, err)
	}
	return out.AccessToken, nil
}

// do sends one request and reads the whole answer.
func (b *bench) do(method, path, token string) (int, int, error) {
	req, err := http.NewRequest(method, b.base+path, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := b.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	return res.StatusCode, int(n), err
}

// stats are pg_stat_statements' calls and shared blocks over every statement
// but the bench's own.
func (b *bench) stats() (calls, blocks float64) {
	_ = b.conn.QueryRow(context.Background(), `
SELECT coalesce(sum(calls), 0)::float8, coalesce(sum(shared_blks_hit + shared_blks_read), 0)::float8
FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'`).Scan(&calls, &blocks)
	return calls, blocks
}

func (b *bench) reset() {
	_, _ = b.conn.Exec(context.Background(), `SELECT pg_stat_statements_reset()`)
}

// measure runs conc workers back to back for the duration (at least one
// request each), cycling through the tokens, after one warm-up request per
// token (so caches are as in steady state).
func (b *bench) measure(what, method, path string, tokens []string, conc int) (Row, error) {
	r := Row{What: what}
	for _, t := range tokens {
		st, n, err := b.do(method, path, t)
		if err != nil || st != 200 {
			return r, fmt.Errorf("warm-up: status %d %v", st, err)
		}
		r.Bytes = n
	}
	b.reset()
	var (
		mu    sync.Mutex
		lat   []float64
		fails atomic.Int64
		next  atomic.Int64
		wg    sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(b.duration)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := true; first || time.Now().Before(deadline); first = false {
				tok := tokens[int(next.Add(1))%len(tokens)]
				t0 := time.Now()
				st, _, err := b.do(method, path, tok)
				d := float64(time.Since(t0).Microseconds()) / 1000
				if err != nil || st != 200 {
					fails.Add(1)
					continue
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	calls, blocks := b.stats()
	n := float64(len(lat))
	if n == 0 {
		return r, fmt.Errorf("no request succeeded")
	}
	slices.Sort(lat)
	r.P50, r.P99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	r.RPS = n / elapsed
	r.Statements, r.Blocks = calls/n, blocks/n
	if f := fails.Load(); f > 0 {
		r.Note = fmt.Sprintf("%d FAILED", f)
	} else {
		r.Note = fmt.Sprintf("%d ok", len(lat))
	}
	return r, nil
}

// deleteModule times DELETE /admin/modules/{id} of a module built like the
// set's (10 subjects × 20 lessons, two homeworks per lesson), three times.
func (b *bench) deleteModule() (Row, error) {
	r := Row{What: "DELETE /admin/modules/{id}"}
	ctx := context.Background()
	var lat []float64
	var calls, blocks float64
	for range 3 {
		var id int32
		err := b.conn.QueryRow(ctx, `
WITH m AS (INSERT INTO modules (title, course) VALUES ('bench delete', '1') RETURNING id),
s AS (INSERT INTO subjects (module_id, title) SELECT m.id, 'S' || k FROM m, generate_series(1, 10) k RETURNING id),
l AS (INSERT INTO lessons (subject_id, title, type, content_url)
      SELECT s.id, 'L' || k, 'video', 'static/lesson_docs/bench-del-' || s.id || '-' || k || '.pdf' FROM s, generate_series(1, 20) k RETURNING id)
SELECT id FROM m`).Scan(&id)
		if err != nil {
			return r, err
		}
		_, err = b.conn.Exec(ctx, `
WITH sub AS (INSERT INTO lesson_submissions (lesson_id, user_id, submitted_at)
      SELECT l.id, u.id, now() FROM lessons l JOIN subjects s ON s.id = l.subject_id,
      (SELECT id FROM users WHERE role = 'student' ORDER BY id LIMIT 2) u WHERE s.module_id = $1 RETURNING id)
INSERT INTO submission_files (submission_id, file_path) SELECT id, 'static/homework/bench-del-' || id || '.txt' FROM sub`, id)
		if err != nil {
			return r, err
		}
		b.reset()
		t0 := time.Now()
		st, n, err := b.do("DELETE", fmt.Sprintf("/admin/modules/%d", id), b.admin)
		if err != nil || st != 200 {
			return r, fmt.Errorf("status %d %v", st, err)
		}
		lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
		c, bl := b.stats()
		calls, blocks = calls+c, blocks+bl
		r.Bytes = n
	}
	slices.Sort(lat)
	r.P50, r.P99 = lat[1], lat[2]
	r.Statements, r.Blocks = calls/3, blocks/3
	r.Note = "3 deletes"
	return r, nil
}

// sweep runs orphans.Sweep (what the server runs at start and hourly) over
// a sample store: 20,000 files named by rows of the set plus 2,000 orphans,
// and reports its time, temp bytes spilled by PostgreSQL and the Go heap
// it grew by.
func (b *bench) sweep(ctx context.Context, dbURL, root string) (Row, error) {
	r := Row{What: "orphan sweep (22k-file store)"}
	if root == "" {
		return r, fmt.Errorf("-static is required")
	}
	old := time.Now().Add(-48 * time.Hour)
	write := func(rel string) error {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			return err
		}
		return os.Chtimes(p, old, old)
	}
	var subs, lessons, users int
	if err := b.conn.QueryRow(ctx, `SELECT (SELECT max(id) FROM submission_files), (SELECT max(id) FROM lessons), (SELECT max(id) FROM users)`).Scan(&subs, &lessons, &users); err != nil {
		return r, err
	}
	for i := range 14000 {
		if err := write(fmt.Sprintf("homework/s%d.pdf", 1+i*(subs/14000))); err != nil {
			return r, err
		}
	}
	for i := range 4000 {
		if err := write(fmt.Sprintf("lesson_docs/l%d.pdf", 1+i*(lessons/4000))); err != nil {
			return r, err
		}
	}
	for i := range 2000 {
		if err := write(fmt.Sprintf("photos/u%d.jpg", 1+i*(users/2000))); err != nil {
			return r, err
		}
		if err := write(fmt.Sprintf("homework/orphan-%d.pdf", i)); err != nil {
			return r, err
		}
	}
	pool, err := db.Open(ctx, db.PoolConfig{URL: dbURL, MinConns: 1, MaxConns: 2, WaitTimeout: 30 * time.Second})
	if err != nil {
		return r, err
	}
	defer pool.Close()
	store, err := storage.Open(root, slog.New(slog.DiscardHandler))
	if err != nil {
		return r, err
	}
	defer store.Close()
	var temp0, temp1 int64
	_ = b.conn.QueryRow(ctx, `SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()`).Scan(&temp0)
	b.reset()
	t0 := time.Now()
	res, err := orphans.Sweep(ctx, pool, store, 24*time.Hour, time.Now())
	if err != nil {
		return r, err
	}
	r.P50 = float64(time.Since(t0).Microseconds()) / 1000
	r.P99 = r.P50
	r.Statements, r.Blocks = b.stats()
	time.Sleep(1200 * time.Millisecond) // stats flush
	_ = b.conn.QueryRow(ctx, `SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()`).Scan(&temp1)
	r.Note = fmt.Sprintf("files %d removed %d, temp spill %d B", res.Files, res.Removed, temp1-temp0)
	if res.Removed != 2000 {
		r.Note += " (EXPECTED 2000 REMOVED)"
	}
	return r, nil
}

func peakRSS(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb
		}
	}
	return 0
}

// printTable prints the markdown table of two result files (SMALL, DISTRICT).
func printTable(small, district string) error {
	type result struct {
		Rows      []Row `json:"rows"`
		PeakRSSKB int   `json:"peak_rss_kb"`
	}
	read := func(p string) (result, error) {
		var r result
		b, err := os.ReadFile(p)
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		return r, err
	}
	s, err := read(small)
	if err != nil {
		return err
	}
	d, err := read(district)
	if err != nil {
		return err
	}
	fmt.Println("| what | SMALL p50 / p99 ms | DISTRICT p50 / p99 ms | p50 D/S | SMALL req/s | DISTRICT req/s | stmts/req S / D | blocks/req S / D | bytes S / D | DISTRICT note |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for i := range min(len(s.Rows), len(d.Rows)) {
		a, b := s.Rows[i], d.Rows[i]
		fmt.Printf("| %s | %.1f / %.1f | %.1f / %.1f | %.1f× | %.0f | %.0f | %.1f / %.1f | %.0f / %.0f | %d / %d | %s |\n",
			strings.TrimSpace(a.What), a.P50, a.P99, b.P50, b.P99, b.P50/max(a.P50, 0.001), a.RPS, b.RPS,
			a.Statements, b.Statements, a.Blocks, b.Blocks, a.Bytes, b.Bytes, b.Note)
	}
	fmt.Printf("| server peak RSS (VmHWM) | %d MiB | %d MiB | | | | | | | |\n", s.PeakRSSKB/1024, d.PeakRSSKB/1024)
	return nil
}

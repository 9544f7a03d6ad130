package faults_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/internal/apitest"
	"platform/internal/apitest/await"
	"platform/internal/auth"
	"platform/internal/pgproxy"
	"platform/internal/web"
)

const overloaded = "Сервер перегружен, повторите попытку позже"

// proxied starts a server whose database connections go through a fault proxy.
func proxied(t *testing.T, o apitest.Options) (*apitest.Env, *pgproxy.Proxy) {
	t.Helper()
	u, err := url.Parse(os.Getenv("TEST_DATABASE_URL"))
	if err != nil || u.Host == "" {
		t.Fatalf("TEST_DATABASE_URL is not a usable URL; run `make test`")
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	proxy, err := pgproxy.Start(net.JoinHostPort(host, port))
	if err != nil {
		t.Fatal(err)
	}
	o.DBAddr = proxy.Addr()
	env := apitest.NewWith(t, o)
	t.Cleanup(proxy.Close) // runs before the pool closes: pgx sees the cut, as in a crash
	return env, proxy
}

// lessonFor inserts module → subject → lesson readable by student.
func lessonFor(t *testing.T, env *apitest.Env, student apitest.User) int32 {
	t.Helper()
	teacher := env.User(t, auth.Teacher)
	module := env.ID(t, `INSERT INTO modules (title, course, created_at) VALUES ('М', '1', now()) RETURNING id`)
	subject := env.ID(t, `INSERT INTO subjects (module_id, teacher_id, title) VALUES ($1, $2, 'Предмет') RETURNING id`, module, teacher.ID)
	lesson := env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url, created_at)
		VALUES ($1, 'Урок', 'video', 'https://video', now()) RETURNING id`, subject)
	group := env.ID(t, `INSERT INTO groups (name) VALUES ('Г') RETURNING id`)
	env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, student.ID, group)
	env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, module, group)
	return lesson
}

// homeworkBody is a multipart body with the named files.
func homeworkBody(t *testing.T, names ...string) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, n := range names {
		w, err := mw.CreateFormFile("files", n)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "content of %s", n)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// direct opens a connection to the test database that bypasses the proxy.
func direct(t *testing.T, env *apitest.Env) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), env.DBURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// wantOverloaded asserts the 503 of API.md §0.4.
func wantOverloaded(t *testing.T, res *apitest.Response) {
	t.Helper()
	res.Error(t, http.StatusServiceUnavailable, overloaded)
	if got := res.Header.Get("Retry-After"); got != "1" {
		t.Fatalf("Retry-After %q, want 1", got)
	}
}

// Issue 11.1: PostgreSQL commits a homework submission but the
// acknowledgement is lost. The rows exist, so their files must too; the
// client is told to retry (503), not that the server failed.
func TestLostCommitAckKeepsHomeworkFiles(t *testing.T) {
	t.Parallel()
	env, proxy := proxied(t, apitest.Options{})
	student := env.User(t, auth.Student)
	lesson := lessonFor(t, env, student)

	body, ctype := homeworkBody(t, "a.pdf", "b.pdf")
	proxy.DropNextCommit()
	res := env.Send(t, apitest.Request{Method: "POST", Path: fmt.Sprintf("/lessons/%d/submit-homework", lesson),
		Token: student.Token, Body: body, Header: http.Header{"Content-Type": {ctype}}})
	wantOverloaded(t, res)
	if proxy.Dropped() != 1 {
		t.Fatalf("the proxy dropped %d COMMITs, want 1", proxy.Dropped())
	}

	rows, err := direct(t, env).Query(context.Background(), `
SELECT f.file_path FROM submission_files f JOIN lesson_submissions s ON s.id = f.submission_id
WHERE s.lesson_id = $1 AND s.user_id = $2`, lesson, student.ID)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 {
		t.Fatalf("committed file rows: %v, want 2 (the commit went through)", paths)
	}
	for _, p := range paths {
		if _, err := os.Stat(filepath.Join(env.StaticDir, strings.TrimPrefix(p, "static/"))); err != nil {
			t.Errorf("row %s has no file: %v", p, err)
		}
	}
}

// Issue 11.1: a group created while its acknowledgement is lost answers
// 503 (retry), and the retry gets the contract's "exists" answer, not 500.
func TestLostAckGroupCreateRetries(t *testing.T) {
	t.Parallel()
	env, proxy := proxied(t, apitest.Options{})
	admin := env.User(t, auth.Admin)

	proxy.DropAfter(func(sql string) bool { return strings.Contains(sql, "INSERT INTO groups") })
	wantOverloaded(t, env.Do(t, "POST", "/admin/groups/", admin, map[string]any{"name": "ИС-99"}))
	if proxy.Dropped() != 1 {
		t.Fatalf("the proxy dropped %d statements, want 1", proxy.Dropped())
	}
	res := env.Do(t, "POST", "/admin/groups/", admin, map[string]any{"name": "ИС-99"})
	res.Status(t, http.StatusBadRequest)
	if n := env.Count(t, `SELECT count(*) FROM groups WHERE name = 'ИС-99'`); n != 1 {
		t.Fatalf("%d groups, want 1", n)
	}
}

// Issue 11.2: while the database is unreachable every request that needs
// it gets the 503 with Retry-After (never 500), the log has one warning for
// the burst (no ERROR line), readiness says so, and the first request after
// the database is back succeeds.
func TestDatabaseDownAnswers503(t *testing.T) {
	t.Parallel()
	env, proxy := proxied(t, apitest.Options{PoolWait: time.Second})
	admin := env.User(t, auth.Admin)
	env.Do(t, "GET", "/admin/groups/", admin, nil).Status(t, http.StatusOK)

	proxy.SetDown(true)
	for range 20 {
		wantOverloaded(t, env.Do(t, "GET", "/admin/groups/", admin, nil))
		wantOverloaded(t, env.Do(t, "POST", "/admin/groups/", admin, map[string]any{"name": "X"}))
	}
	env.Do(t, "GET", "/readyz", apitest.User{}, nil).Error(t, http.StatusServiceUnavailable, "База данных недоступна")
	logs := env.Logs.String()
	if n := strings.Count(logs, "database unavailable"); n != 1 {
		t.Errorf("%d 'database unavailable' lines for one burst, want 1", n)
	}
	if strings.Contains(logs, "level=ERROR") {
		t.Errorf("ERROR lines during an outage:\n%s", logs)
	}

	proxy.SetDown(false)
	env.Do(t, "GET", "/admin/groups/", admin, nil).Status(t, http.StatusOK)
	env.Do(t, "GET", "/readyz", apitest.User{}, nil).Status(t, http.StatusOK)
}

// Issue 11.5: a pool with every connection taken is busy, not unready:
// /readyz answers 200 while ordinary requests are shed; a schema behind the
// binary's migrations is "cannot serve".
func TestReadyzBusyPoolIsReady(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{PoolMax: 1, PoolWait: 200 * time.Millisecond})
	admin := env.User(t, auth.Admin)

	held, release := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- env.Pool.WithTx(context.Background(), func(pgx.Tx) error {
			close(held)
			<-release
			return nil
		})
	}()
	await.Recv(t, held, "a transaction to hold the only connection")
	wantOverloaded(t, env.Do(t, "GET", "/admin/groups/", admin, nil))
	env.Do(t, "GET", "/readyz", apitest.User{}, nil).Status(t, http.StatusOK)
	close(release)
	if err := await.Recv(t, errc, "the holding transaction to end"); err != nil {
		t.Fatal(err)
	}

	conn := direct(t, env)
	if _, err := conn.Exec(context.Background(), `UPDATE schema_migrations SET version = version - 1`); err != nil {
		t.Fatal(err)
	}
	env.Do(t, "GET", "/readyz", apitest.User{}, nil).Error(t, http.StatusServiceUnavailable, "База данных недоступна")
}

// rawRequest writes head (request line and headers, without the blank
// line) and the start of a body on a fresh connection, then stops sending,
// and returns the status the server answers and how long it took.
func rawRequest(t *testing.T, env *apitest.Env, head, bodyStart string) (int, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", env.Server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := fmt.Fprintf(conn, "%s\r\nHost: test\r\n\r\n%s", head, bodyStart); err != nil {
		t.Fatal(err)
	}
	// The bound of the test, far above the deadlines under test.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to a stalled body: %v", err)
	}
	res.Body.Close()
	return res.StatusCode, time.Since(start)
}

// Issue 11.4: a JSON body that stops arriving is cut off at its deadline (408).
func TestSlowJSONBodyCutOff(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{Body: web.BodyTimeouts{JSON: 300 * time.Millisecond}})
	admin := env.User(t, auth.Admin)
	status, took := rawRequest(t, env, "POST /admin/groups/ HTTP/1.1\r\nAuthorization: Bearer "+admin.Token+
		"\r\nContent-Type: application/json\r\nContent-Length: 100", `{"name": "ИС`)
	if status != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", status)
	}
	if took < 300*time.Millisecond {
		t.Fatalf("cut off after %s, before the 300ms deadline", took)
	}
	if !strings.Contains(env.Logs.String(), "slow request body cut off") {
		t.Fatalf("the cut-off is not logged:\n%s", env.Logs.String())
	}
}

// Issue 11.4: an upload falling below the minimum rate is cut off, and the
// partial file is removed.
func TestSlowUploadCutOff(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{Body: web.BodyTimeouts{UploadGrace: 300 * time.Millisecond, UploadMinRate: 1 << 20}})
	teacher := env.User(t, auth.Teacher)
	const boundary = "b0undary"
	status, _ := rawRequest(t, env, "POST /lessons/upload/lesson-file HTTP/1.1\r\nAuthorization: Bearer "+teacher.Token+
		"\r\nContent-Type: multipart/form-data; boundary="+boundary+"\r\nContent-Length: 10000000",
		"--"+boundary+"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4 a little")
	if status != http.StatusRequestTimeout {
		t.Fatalf("status %d, want 408", status)
	}
	entries, err := os.ReadDir(filepath.Join(env.StaticDir, "lesson_docs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("left in lesson_docs after the cut-off: %v", entries)
	}
}

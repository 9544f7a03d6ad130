//go:build faults

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"
)

// Issue 22: imports are River jobs that outlive the instance running them.

// importRows is the size of the fault tests' import.
const importRows = 3000

// jobEnv makes the rescue fast enough for a test: a job running 40 s is
// taken as abandoned (production: JOB_RESCUE_AFTER=120 with
// JOB_IMPORT_TIMEOUT=100). DEFAULT_PASSWORD_COST=5 keeps 3,000 hashes at
// a few seconds, long enough to kill the instance mid-way.
var jobEnv = []string{"JOB_IMPORT_TIMEOUT=30", "JOB_RESCUE_AFTER=40", "BCRYPT_COST=7", "DEFAULT_PASSWORD_COST=5"}

func adminToken(t *testing.T, base string) string {
	t.Helper()
	res, err := testClient.Post(base+"/auth/login", "application/json", strings.NewReader(`{"iin":"000000000001","password":"admin-pass"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Token string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	if body.Token == "" {
		t.Fatalf("login: %d", res.StatusCode)
	}
	return body.Token
}

// rosterFile is an import of n students of one group.
func rosterFile(t *testing.T, group string, n int) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"Группа", "ИИН", "ФИО"})
	for i := range n {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		_ = f.SetSheetRow("Sheet1", cell, &[]any{group, fmt.Sprintf("8%011d", i), fmt.Sprintf("Студент %d", i)})
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// startImport posts the roster in the background; the channel gets the
// status (0 when the connection failed).
func startImport(t *testing.T, base, token string, file []byte) <-chan int {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "roster.xlsx")
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/admin/groups/upload-excel", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	out := make(chan int, 1)
	go func() {
		res, err := testClient.Do(req)
		if err != nil {
			out <- 0
			return
		}
		res.Body.Close()
		out <- res.StatusCode
	}()
	return out
}

// waitRunning waits for the import to run its first attempt and returns its id.
func waitRunning(t *testing.T, conn *pgx.Conn) int32 {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var id int32
		err := conn.QueryRow(context.Background(),
			`SELECT id FROM import_jobs WHERE status = 'running' AND attempt = 1 ORDER BY id DESC LIMIT 1`).Scan(&id)
		if err == nil {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import never ran: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling another process's progress
	}
}

// importState reads GET /admin/groups/imports/{id} from base.
func importState(t *testing.T, base, token string, id int32) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/admin/groups/imports/%d", base, id), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != 200 {
		t.Fatalf("import state: %d %v", res.StatusCode, err)
	}
	return m
}

// waitFinished polls the import on base until done or failed, within limit.
func waitFinished(t *testing.T, base, token string, id int32, limit time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		m := importState(t, base, token, id)
		if m["status"] == "done" || m["status"] == "failed" {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %d still %v after %s", id, m["status"], limit)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkImported fails unless all rows of the group are there.
func checkImported(t *testing.T, conn *pgx.Conn, group string, n int) {
	t.Helper()
	var members int
	err := conn.QueryRow(context.Background(), `SELECT count(*) FROM user_group ug JOIN groups g ON g.id = ug.group_id WHERE g.name = $1`, group).Scan(&members)
	if err != nil || members != n {
		t.Errorf("group %s has %d members (%v), want %d", group, members, err, n)
	}
}

// Two instances on one database: kill -9 of the instance running a
// 3,000-row import; the other reports it done, all rows there, within 5
// minutes (here with a 40 s rescue; production's bound is in README).
func TestFaultImportInstanceKilled(t *testing.T) {
	pg := startFaultPG(t)
	static := t.TempDir()
	a := startBinary(t, pg.url(), static, jobEnv...)
	token := adminToken(t, a.base)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.url())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	client := startImport(t, a.base, token, rosterFile(t, "Убитый", importRows))
	id := waitRunning(t, conn)
	killAt := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done
	a.done <- nil
	t.Logf("client of the killed instance: status %d", <-client)

	b := startBinary(t, pg.url(), static, jobEnv...)
	btoken := adminToken(t, b.base)
	if m := importState(t, b.base, btoken, id); m["status"] != "running" {
		t.Logf("right after the kill the other instance reports %v", m["status"])
	}
	m := waitFinished(t, b.base, btoken, id, 5*time.Minute)
	took := time.Since(killAt)
	t.Logf("import %d: %v after %s (attempt %v) on the other instance", id, m["status"], took.Round(time.Second), m["attempt"])
	if m["status"] != "done" {
		t.Fatalf("import %v, want done: %v", m["status"], m["error"])
	}
	if a, _ := m["attempt"].(float64); a < 2 {
		t.Errorf("attempt %v, want a retry (2 or more)", m["attempt"])
	}
	checkImported(t, conn, "Убитый", importRows)
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
}

// SIGTERM during an import whose client already left: the job gets the
// shutdown grace; past it, it is cancelled, rolls back, is logged and goes
// back to the queue (status queued, the reason recorded); the next
// instance finishes it.
func TestFaultImportSIGTERM(t *testing.T) {
	pg := startFaultPG(t)
	static := t.TempDir()
	env := append([]string{"SHUTDOWN_GRACE=1"}, jobEnv...)
	env[len(env)-1] = "DEFAULT_PASSWORD_COST=7" // the import outlasts the 1 s grace
	a := startBinary(t, pg.url(), static, env...)
	token := adminToken(t, a.base)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.url())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	client := startImport(t, a.base, token, rosterFile(t, "Остановка", importRows))
	id := waitRunning(t, conn)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.done:
		a.done <- err
		t.Logf("exit: %v; client status %d", err, <-client)
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30 s of SIGTERM")
	}
	logs := a.logs.String()
	if !strings.Contains(logs, "excel import interrupted (shutdown or attempt timeout); rolled back, it will be retried") {
		t.Errorf("no log line for the interrupted import:\n%s", tail(logs, 30))
	}
	var status, reason string
	if err := conn.QueryRow(ctx, `SELECT status, coalesce(error, '') FROM import_jobs WHERE id = $1`, id).Scan(&status, &reason); err != nil {
		t.Fatal(err)
	}
	t.Logf("after exit: %s (%s)", status, reason)
	if status != "queued" || reason != "Импорт прерван остановкой сервера" {
		t.Errorf("after SIGTERM the import is %s (%q), want queued with the reason", status, reason)
	}
	var users int
	_ = conn.QueryRow(ctx, `SELECT count(*) FROM users WHERE iin LIKE '8%'`).Scan(&users)
	if users != 0 {
		t.Errorf("%d users written by the interrupted attempt, want 0 (rolled back)", users)
	}

	b := startBinary(t, pg.url(), static, env...)
	m := waitFinished(t, b.base, adminToken(t, b.base), id, 3*time.Minute)
	t.Logf("next instance: %v, attempt %v", m["status"], m["attempt"])
	if m["status"] != "done" {
		t.Fatalf("import %v: %v", m["status"], m["error"])
	}
	checkImported(t, conn, "Остановка", importRows)
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"platform/internal/testdb"
	"platform/migrations"
)

// testClient bounds every request of these tests, so a server that stops
// answering fails the test instead of hanging it until the package timeout.
var testClient = &http.Client{Timeout: 2 * time.Minute}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The whole program: serve migrates an empty database, creates the
// bootstrap admin, answers, and shuts down cleanly on cancel.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	dbURL := testdb.Empty(t)
	addr := freeAddr(t)
	environ := []string{
		"DATABASE_URL=" + dbURL,
		"SECRET_KEY=end-to-end-secret-0123456789",
		"HTTP_ADDR=" + addr,
		"STATIC_DIR=" + t.TempDir(),
		"ADMIN_IIN=000000000001",
		"ADMIN_PASSWORD=admin-pass",
		"BCRYPT_COST=4",
		"LOG_FORMAT=json",
	}
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, environ, &bytes.Buffer{}, &logs) }()

	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := testClient.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not come up: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	res, err := testClient.Post(base+"/auth/login", "application/json", strings.NewReader(`{"iin":"000000000001","password":"admin-pass"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		User struct {
			Role string `json:"role"`
		} `json:"user"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != 200 || body.User.Role != "admin" {
		t.Errorf("bootstrap admin login: %d %+v", res.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	for _, want := range []string{`"msg":"migrations applied"`, `"msg":"bootstrap admin created (ADMIN_IIN)"`, `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "admin-pass") || strings.Contains(logs.String(), "end-to-end-secret") ||
		strings.Contains(logs.String(), "000000000001") {
		t.Error("a secret reached the log")
	}

	// The migrate subcommand sees the schema the server applied.
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "version"}, environ, &out, &bytes.Buffer{}); err != nil || strings.TrimSpace(out.String()) != fmt.Sprint(migrations.Latest()) {
		t.Errorf("migrate version: %q %v", out.String(), err)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), nil, []string{"DATABASE_URL=postgres://x@127.0.0.1:1/db", "SECRET_KEY=short"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "SECRET_KEY") {
		t.Errorf("err = %v", err)
	}
	err = run(context.Background(), []string{"bogus"}, nil, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `unknown command "bogus"`) {
		t.Errorf("err = %v", err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, nil, &out, &bytes.Buffer{}); err != nil || out.String() != fmt.Sprintln(buildVersion()) {
		t.Errorf("version: %q %v", out.String(), err)
	}
}

// `migrate down N` with more steps than are applied exits with an error
// before reverting anything; within range it reverts and `up` restores.
// (The adopted-database refusal is tested in internal/db.)
func TestMigrateDownCommand(t *testing.T) {
	t.Parallel()
	environ := []string{"DATABASE_URL=" + testdb.NewURL(t), "SECRET_KEY=migrate-command-secret-0123"}
	migrate := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"migrate"}, args...), environ, &out, &bytes.Buffer{})
		return strings.TrimSpace(out.String()), err
	}
	latest := fmt.Sprint(migrations.Latest())
	assertVersion := func(want string) {
		t.Helper()
		if got, err := migrate("version"); err != nil || got != want {
			t.Fatalf("migrate version = %q, %v; want %s", got, err, want)
		}
	}

	if _, err := migrate("down", fmt.Sprint(migrations.Latest()+1)); err == nil || !strings.Contains(err.Error(), "only "+latest+" applied") {
		t.Fatalf("migrate down past 0: %v", err)
	}
	assertVersion(latest)
	if _, err := migrate("down", latest); err != nil {
		t.Fatalf("migrate down %s: %v", latest, err)
	}
	assertVersion("0")
	if _, err := migrate("up"); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	assertVersion(latest)
}

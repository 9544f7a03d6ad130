//go:build e2e

// Package e2e checks several instances of the real binary on one database
// and one bucket, behind the real proxy. scripts/e2e.sh (make e2e) starts
// PostgreSQL, SeaweedFS, two instances and nginx, then runs this test with
// their addresses in E2E_* variables.
package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"platform/migrations"
)

// testClient bounds every request of these tests, so a server that stops
// answering fails the test instead of hanging it until the package timeout.
var testClient = &http.Client{Timeout: 2 * time.Minute}

func env(t *testing.T, name string) string {
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run this test through `make e2e`", name)
	}
	return v
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func send(t *testing.T, method, url, token string, body io.Reader, header http.Header) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{res.StatusCode, res.Header, b}
}

func sendJSON(t *testing.T, method, url, token string, v any) reply {
	t.Helper()
	b, _ := json.Marshal(v)
	return send(t, method, url, token, bytes.NewReader(b), http.Header{"Content-Type": {"application/json"}})
}

func login(t *testing.T, base, iin, password string) reply {
	t.Helper()
	return sendJSON(t, "POST", base+"/auth/login", "", map[string]string{"iin": iin, "password": password})
}

func upload(t *testing.T, url, token, field, name string, content []byte) reply {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(content)
	mw.Close()
	return send(t, "POST", url, token, &buf, http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// burst runs reads concurrently against base and fails the test (from the
// test goroutine) when any is not 200.
func burst(t *testing.T, base, token string) {
	t.Helper()
	const workers, each = 12, 15
	errs := make(chan string, workers*each)
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < each; i++ {
				// /user/by-iin is rate-limited per user (issue 10), so the
				// second statement-carrying read is the admin's user list.
				path := "/auth/check"
				if i%2 == 1 {
					path = "/admin/users/?limit=5"
				}
				req, _ := http.NewRequest("GET", base+path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := testClient.Do(req)
				if err != nil {
					errs <- err.Error()
					continue
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					errs <- fmt.Sprintf("%s: %d %s", path, res.StatusCode, body)
				}
			}
		}()
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	close(errs)
	n := 0
	for e := range errs {
		if n++; n <= 3 {
			t.Errorf("burst on %s: %s", base, e)
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d requests failed", n, workers*each)
	}
}

func TestSeveralInstances(t *testing.T) {
	// A and B connect to PostgreSQL directly, C through PgBouncer in
	// transaction mode; nginx spreads the proxy's requests over all three.
	proxy, a, b, c := env(t, "E2E_PROXY"), env(t, "E2E_A"), env(t, "E2E_B"), env(t, "E2E_C")
	adminIIN, adminPW := env(t, "E2E_ADMIN_IIN"), env(t, "E2E_ADMIN_PASSWORD")
	secrets := []string{adminPW, adminIIN}

	// Both instances started at once on an empty database: one applied the
	// migrations, the other waited on the advisory lock; one created the
	// bootstrap admin.
	conn, err := pgx.Connect(t.Context(), env(t, "E2E_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var version int
	var dirty bool
	if err := conn.QueryRow(t.Context(), `SELECT version, dirty FROM schema_migrations`).Scan(&version, &dirty); err != nil {
		t.Fatal(err)
	}
	if latest := migrations.Latest(); uint(version) != latest || dirty {
		t.Fatalf("schema version %d dirty=%v, want %d", version, dirty, latest)
	}
	var admins int
	conn.QueryRow(t.Context(), `SELECT count(*) FROM users WHERE iin = $1`, adminIIN).Scan(&admins)
	if admins != 1 {
		t.Fatalf("%d bootstrap admins", admins)
	}

	res := login(t, proxy, adminIIN, adminPW)
	if res.status != 200 {
		t.Fatalf("admin login through the proxy: %d %s", res.status, res.body)
	}
	admin := res.json(t)["access_token"].(string)
	secrets = append(secrets, admin)

	// A write on one instance is seen on the other at once.
	teacherIIN := fmt.Sprintf("9%011d", time.Now().UnixNano()%1e11)
	teacherPW := "Teacher-" + rand.Text()[:10]
	secrets = append(secrets, teacherIIN, teacherPW)
	res = sendJSON(t, "POST", a+"/admin/users/", admin, map[string]any{
		"iin": teacherIIN, "full_name": "Учитель Второй", "phone": "+77001112233", "role": "teacher", "password": teacherPW,
	})
	if res.status != 200 {
		t.Fatalf("create on A: %d %s", res.status, res.body)
	}
	for _, base := range []string{b, c} {
		if res = send(t, "GET", base+"/user/by-iin/"+teacherIIN, admin, nil, nil); res.status != 200 {
			t.Fatalf("read on %s right after the write on A: %d %s", base, res.status, res.body)
		}
	}
	// Logins through PgBouncer: token minted by C works on A.
	if res = login(t, c, adminIIN, adminPW); res.status != 200 {
		t.Fatalf("login on C: %d %s", res.status, res.body)
	}
	tokenC := res.json(t)["access_token"].(string)
	secrets = append(secrets, tokenC)
	if res = send(t, "GET", a+"/auth/check", tokenC, nil, nil); res.status != 200 {
		t.Fatalf("C's token on A: %d", res.status)
	}

	// A burst through PgBouncer: C's 5 connections share 4 server
	// connections, so consecutive transactions of one client connection run
	// on different server connections. Statements prepared on one server
	// connection (pgx's default mode) are then missing on another;
	// default_query_exec_mode=cache_describe sends them unnamed.
	burst(t, c, admin)

	// Upload through the proxy (streamed by nginx; over one 8 MiB part, so a
	// multipart upload to the bucket), download with Range through B.
	content := make([]byte, 9<<20+123)
	rand.Read(content)
	res = upload(t, proxy+"/lessons/upload/lesson-file", admin, "file", "урок.pdf", content)
	if res.status != 200 {
		t.Fatalf("lesson file through the proxy: %d %s", res.status, res.body)
	}
	fileURL := res.json(t)["url"].(string) // "/static/lesson_docs/<hex>.pdf"
	name, ok := strings.CutPrefix(fileURL, "/static/")
	if !ok {
		t.Fatalf("url %q", fileURL)
	}
	res = send(t, "GET", b+"/files/download/"+name, admin, nil, http.Header{"Range": {"bytes=8388600-8388699"}})
	if res.status != 206 || !bytes.Equal(res.body, content[8388600:8388700]) ||
		res.header.Get("Content-Range") != fmt.Sprintf("bytes 8388600-8388699/%d", len(content)) {
		t.Fatalf("range through B: %d %q %d bytes", res.status, res.header.Get("Content-Range"), len(res.body))
	}
	res = send(t, "GET", c+"/files/download/"+name, admin, nil, http.Header{"Range": {"bytes=-10"}})
	if res.status != 206 || !bytes.Equal(res.body, content[len(content)-10:]) {
		t.Fatalf("suffix range through C: %d, %d bytes", res.status, len(res.body))
	}
	res = send(t, "GET", a+"/files/download/"+name, admin, nil, nil)
	if res.status != 200 || !bytes.Equal(res.body, content) {
		t.Fatalf("whole file through A: %d, %d bytes", res.status, len(res.body))
	}
	etag := res.header.Get("ETag")
	if res = send(t, "GET", b+"/files/download/"+name, admin, nil, http.Header{"If-None-Match": {etag}}); res.status != 304 {
		t.Fatalf("If-None-Match on B with A's ETag %s: %d", etag, res.status)
	}
	// An avatar uploaded on A is served publicly by B.
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
	res = upload(t, a+"/user/upload-photo", admin, "photo", "me.png", png)
	if res.status != 200 {
		t.Fatalf("photo on A: %d %s", res.status, res.body)
	}
	photo := res.json(t)["user"].(map[string]any)["photo"].(string)
	photo = "/" + strings.TrimPrefix(photo, "/")
	if res = send(t, "GET", b+photo, "", nil, nil); res.status != 200 || !bytes.Equal(res.body, png) {
		t.Fatalf("photo %s on B: %d", photo, res.status)
	}

	// The login throttle is shared: 5 failures spread over the instances
	// lock the IIN on each.
	for i, base := range []string{a, b, c, a, proxy} {
		if res = login(t, base, teacherIIN, "wrong-"+teacherPW); res.status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, res.status, res.body)
		}
	}
	for _, base := range []string{a, b, c} {
		res = login(t, base, teacherIIN, teacherPW)
		if res.status != 403 || !strings.HasPrefix(res.json(t)["detail"].(string), "Превышено число попыток") {
			t.Fatalf("right password after 5 failures on %s: %d %s", base, res.status, res.body)
		}
	}

	// nginx passes the client's address on (the instances trust it alone).
	send(t, "GET", proxy+"/healthz", "", nil, http.Header{"X-Forwarded-For": {"203.0.113.7"}})

	// Metrics of instance A on its debug listener, after this load.
	mres, err := testClient.Get(env(t, "E2E_DEBUG") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(mres.Body)
	mres.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"platform_http_request_duration_seconds", "platform_http_requests_in_flight",
		"platform_db_pool_connections", "platform_db_pool_empty_acquires_total", "platform_db_pool_canceled_acquires_total",
		"platform_bcrypt_queue_depth", "platform_bcrypt_wait_seconds", "platform_http_unavailable_total",
		"platform_import_rows_total", "platform_file_store_operation_duration_seconds"} {
		if _, ok := fams[f]; !ok {
			t.Errorf("metric family %s missing on A", f)
		}
	}

	// The instances' logs: route patterns, the forwarded client address, no secrets.
	var logs string
	deadline := time.Now().Add(5 * time.Second)
	for {
		logs = ""
		for _, p := range strings.Split(env(t, "E2E_LOGS"), ":") {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			logs += string(b)
		}
		// The access line is written as the handler returns, just after the reply.
		if strings.Contains(logs, "client_ip=203.0.113.7") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling a file another process appends to
	}
	for _, want := range []string{"client_ip=203.0.113.7", "route=/user/by-iin/{iin}", "route=/files/download/*"} {
		if !strings.Contains(logs, want) {
			t.Errorf("instance logs lack %s", want)
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("instance logs contain a secret %q", s)
		}
	}
}

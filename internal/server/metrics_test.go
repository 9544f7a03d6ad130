package server_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// scrape reads the debug listener's /metrics and parses the text format.
func scrape(t *testing.T, env *apitest.Env) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(env.Metrics.Debug())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	if res, err := http.Get(srv.URL + "/debug/pprof/"); err != nil || res.StatusCode != 200 {
		t.Errorf("pprof index: %v %v", res, err)
	}
	return fams
}

// series finds the metric of a family whose labels include want.
func series(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("family %s missing", name)
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	t.Fatalf("%s has no series with %v", name, want)
	return nil
}

func photoForm(t *testing.T) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("photo", "me.png")
	fw.Write([]byte("\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 64)))
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// After a small load, /metrics on the debug handler has every family of
// issue 13, requests under their route patterns, and the 503 by its reason.
func TestMetricsFamilies(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{PoolMax: 1, PoolWait: 200 * time.Millisecond})
	u := env.User(t, auth.Student)
	env.Do(t, "POST", "/auth/login", noToken, map[string]string{"iin": u.IIN, "password": u.Password}).Status(t, 200)
	env.Do(t, "GET", "/user/by-iin/"+u.IIN, u, nil).Status(t, 200)
	env.Do(t, "GET", "/no/such/"+u.IIN, noToken, nil).Status(t, 404)
	body, ct := photoForm(t)
	env.Send(t, apitest.Request{Method: "POST", Path: "/user/upload-photo", Token: u.Token, Body: body, Header: http.Header{"Content-Type": {ct}}}).Status(t, 200)
	held, err := env.Pool.Query(context.Background(), `SELECT 1`)
	if err != nil {
		t.Fatal(err)
	}
	env.Do(t, "GET", "/auth/check", u, nil).Status(t, 503)
	held.Close()
	// An invented method must not become a label value of its own (a client
	// could grow the series without bound).
	if res, err := env.Try("BREW", "/", noToken, nil); err != nil || res.Code != 405 {
		t.Fatalf("BREW /: %+v, %v", res, err)
	}

	fams := scrape(t, env)
	h := series(t, fams, "platform_http_request_duration_seconds", map[string]string{"route": "/user/by-iin/{iin}", "status": "200", "method": "GET"})
	if h.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("by-iin count %d", h.GetHistogram().GetSampleCount())
	}
	series(t, fams, "platform_http_request_duration_seconds", map[string]string{"route": "unmatched", "status": "404"})
	series(t, fams, "platform_http_request_duration_seconds", map[string]string{"route": "/auth/check", "status": "503"})
	series(t, fams, "platform_http_request_duration_seconds", map[string]string{"method": "OTHER", "status": "405"})
	for _, m := range fams["platform_http_request_duration_seconds"].Metric {
		for _, l := range m.Label {
			if strings.Contains(l.GetValue(), u.IIN) || l.GetValue() == "BREW" {
				t.Errorf("label %s=%q carries the IIN or the invented method", l.GetName(), l.GetValue())
			}
		}
	}
	if v := series(t, fams, "platform_http_unavailable_total", map[string]string{"reason": "db_pool_wait"}).GetCounter().GetValue(); v != 1 {
		t.Errorf("503s for db_pool_wait: %v", v)
	}
	if g := series(t, fams, "platform_http_requests_in_flight", nil).GetGauge().GetValue(); g != 0 {
		t.Errorf("in flight %v after every request ended", g)
	}
	if v := series(t, fams, "platform_db_pool_connections", map[string]string{"state": "max"}).GetGauge().GetValue(); v != 1 {
		t.Errorf("pool max %v", v)
	}
	if v := series(t, fams, "platform_db_pool_canceled_acquires_total", nil).GetCounter().GetValue(); v < 1 {
		t.Errorf("canceled acquires %v, want the timed-out wait", v)
	}
	if v := series(t, fams, "platform_db_pool_empty_acquires_total", nil).GetCounter().GetValue(); v < 1 {
		t.Errorf("empty acquires %v", v)
	}
	series(t, fams, "platform_db_pool_acquire_wait_seconds_total", nil)
	series(t, fams, "platform_db_pool_acquires_total", nil)
	if n := series(t, fams, "platform_bcrypt_wait_seconds", nil).GetHistogram().GetSampleCount(); n < 2 {
		t.Errorf("bcrypt waits observed: %d (user hash + login)", n)
	}
	series(t, fams, "platform_bcrypt_queue_depth", nil)
	series(t, fams, "platform_bcrypt_slots", nil)
	if n := series(t, fams, "platform_file_store_operation_duration_seconds", map[string]string{"op": "save", "result": "ok"}).GetHistogram().GetSampleCount(); n != 1 {
		t.Errorf("store saves %d", n)
	}
	series(t, fams, "platform_import_rows_total", map[string]string{"stage": "created"})
	series(t, fams, "platform_imports_in_progress", nil)
	series(t, fams, "go_goroutines", nil)
}

// The log of a set of requests that carry IINs in paths and bodies,
// passwords and tokens names routes by pattern and holds none of them
// (apitest checks every user's IIN, password and token at the end of every
// test; the IIN and password sent in bodies are added here).
func TestLogsCarryRoutesNotSecrets(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	u := env.User(t, auth.Student)
	const newIIN, newPassword = "950101300123", "Secret-Pa55word"
	env.Secret(newIIN, newPassword)
	env.Do(t, "POST", "/auth/login", noToken, map[string]string{"iin": u.IIN, "password": "wrong-" + u.Password}).Status(t, 401)
	env.Secret("wrong-" + u.Password)
	env.Do(t, "POST", "/auth/login", noToken, map[string]string{"iin": u.IIN, "password": u.Password}).Status(t, 200)
	env.Do(t, "GET", "/user/by-iin/"+u.IIN, admin, nil).Status(t, 200)
	env.Do(t, "POST", "/admin/users/", admin, map[string]any{
		"iin": newIIN, "full_name": "Новый Пользователь", "phone": "+77001234567", "role": "student", "password": newPassword,
	}).Status(t, 200)
	env.Do(t, "PATCH", "/admin/users/reset_password", admin, map[string]string{"user_iin": newIIN, "new_password": newPassword + "2"})
	env.Secret(newPassword + "2")
	env.Do(t, "DELETE", "/admin/users/"+newIIN, admin, nil)
	env.Do(t, "GET", "/user/by-iin/"+newIIN, admin, nil).Status(t, 404)
	env.Do(t, "GET", "/auth/check", apitest.User{Token: u.Token + "x"}, nil).Status(t, 401)
	env.Secret(u.Token + "x")
	env.Do(t, "GET", "/unknown/"+u.IIN, noToken, nil).Status(t, 404)
	env.Server.Close() // every access log line is written

	logs := env.Logs.String()
	for _, want := range []string{"route=/user/by-iin/{iin}", "route=/admin/users/{iin}", "route=/auth/login", "route=unmatched"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

package server_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"platform/internal/apitest"
	"platform/internal/auth"
)

var noToken = apitest.User{}

func TestWelcomeAndHealth(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	res := env.Do(t, "GET", "/", noToken, nil).Status(t, 200)
	if string(res.Body) != `{"message":"Добро пожаловать на платформу!"}` || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("welcome: %s %s", res.Header.Get("Content-Type"), res.Body)
	}
	if b := env.Do(t, "GET", "/healthz", noToken, nil).Status(t, 200).Body; string(b) != `{"status":"ok"}` {
		t.Errorf("healthz: %s", b)
	}
	if b := env.Do(t, "GET", "/readyz", noToken, nil).Status(t, 200).Body; string(b) != `{"status":"ok"}` {
		t.Errorf("readyz: %s", b)
	}
	if id := res.Header.Get("X-Request-ID"); len(id) != 24 {
		t.Errorf("request id %q", id)
	}
	// A sane incoming request id is kept.
	got := env.Send(t, apitest.Request{Method: "GET", Path: "/healthz", Header: http.Header{"X-Request-Id": {"proxy-123"}}})
	if got.Header.Get("X-Request-ID") != "proxy-123" {
		t.Errorf("request id not propagated: %q", got.Header.Get("X-Request-ID"))
	}
	// The schema behind the binary (cannot serve): readyz answers 503,
	// healthz still 200. An unreachable database: internal/faults.
	env.Exec(t, `UPDATE schema_migrations SET version = version - 1`)
	env.Do(t, "GET", "/readyz", noToken, nil).Error(t, 503, "База данных недоступна")
	env.Do(t, "GET", "/healthz", noToken, nil).Status(t, 200)
}

func TestRoutingShapes(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Student)
	env.Do(t, "GET", "/no/such/path", noToken, nil).Error(t, 404, "Not Found")
	res := env.Do(t, "DELETE", "/auth/login", noToken, nil)
	res.Error(t, 405, "Method Not Allowed")
	if res.Header.Get("Allow") == "" {
		t.Error("405 without Allow")
	}
	// One extra trailing slash is accepted, without a redirect.
	env.Do(t, "GET", "/auth/check/", u, nil).Status(t, 200)
	env.Do(t, "POST", "/auth/login/", noToken, map[string]string{"iin": u.IIN, "password": u.Password}).Status(t, 200)
	env.Do(t, "GET", "/auth/check//", u, nil).Error(t, 404, "Not Found")
	// Paths are case-sensitive.
	env.Do(t, "GET", "/Auth/check", u, nil).Error(t, 404, "Not Found")
	// HEAD is not answered by API routes.
	env.Do(t, "HEAD", "/", noToken, nil).Status(t, 405)
}

var securityHeaders = map[string]string{
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
	"Referrer-Policy":         "no-referrer",
	"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}

func checkSecurity(t *testing.T, what string, res *apitest.Response, hsts bool) {
	t.Helper()
	for k, v := range securityHeaders {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	got := res.Header.Get("Strict-Transport-Security")
	if hsts && got != "max-age=31536000; includeSubDomains" || !hsts && got != "" {
		t.Errorf("%s: HSTS %q (want present=%v)", what, got, hsts)
	}
}

func TestSecurityHeadersEverywhere(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{PlaceURL: "https://app.example"})
	checkSecurity(t, "200", env.Do(t, "GET", "/", noToken, nil), false)
	checkSecurity(t, "401", env.Do(t, "GET", "/auth/check", noToken, nil), false)
	checkSecurity(t, "404", env.Do(t, "GET", "/missing", noToken, nil), false)
	checkSecurity(t, "405", env.Do(t, "PUT", "/", noToken, nil), false)
	checkSecurity(t, "422", env.Do(t, "POST", "/auth/login", noToken, "{"), false)
	checkSecurity(t, "preflight", env.Send(t, apitest.Request{Method: "OPTIONS", Path: "/auth/login", Header: http.Header{
		"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"POST"}}}), false)
}

func TestHSTS(t *testing.T) {
	t.Parallel()
	t.Run("direct TLS", func(t *testing.T) {
		t.Parallel()
		env := apitest.NewWith(t, apitest.Options{TLS: true})
		checkSecurity(t, "https", env.Do(t, "GET", "/", noToken, nil), true)
		checkSecurity(t, "https 404", env.Do(t, "GET", "/x", noToken, nil), true)
	})
	t.Run("trusted proxy", func(t *testing.T) {
		t.Parallel()
		env := apitest.New(t) // loopback is trusted by default
		xfp := func(v string) *apitest.Response {
			return env.Send(t, apitest.Request{Method: "GET", Path: "/", Header: http.Header{"X-Forwarded-Proto": {v}}})
		}
		checkSecurity(t, "XFP https", xfp("https"), true)
		checkSecurity(t, "XFP HTTPS, http", xfp("HTTPS, http"), true)
		checkSecurity(t, "XFP http", xfp("http"), false)
		checkSecurity(t, "no XFP", env.Do(t, "GET", "/", noToken, nil), false)
	})
	t.Run("untrusted proxy", func(t *testing.T) {
		t.Parallel()
		env := apitest.NewWith(t, apitest.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		res := env.Send(t, apitest.Request{Method: "GET", Path: "/", Header: http.Header{"X-Forwarded-Proto": {"https"}}})
		checkSecurity(t, "untrusted XFP", res, false)
	})
}

// Client IPs come from X-Forwarded-For only when the peer is trusted.
func TestClientIPInLog(t *testing.T) {
	t.Parallel()
	trusted := apitest.New(t)
	trusted.Send(t, apitest.Request{Method: "GET", Path: "/healthz", Header: http.Header{"X-Forwarded-For": {"203.0.113.9, 127.0.0.1"}}})
	if !strings.Contains(trusted.Logs.String(), "client_ip=203.0.113.9") {
		t.Errorf("trusted proxy: log %s", trusted.Logs.String())
	}
	untrusted := apitest.NewWith(t, apitest.Options{TrustedProxies: []netip.Prefix{}})
	untrusted.Send(t, apitest.Request{Method: "GET", Path: "/healthz", Header: http.Header{"X-Forwarded-For": {"203.0.113.9"}}})
	if !strings.Contains(untrusted.Logs.String(), "client_ip=127.0.0.1") {
		t.Errorf("untrusted proxy: log %s", untrusted.Logs.String())
	}
}

func TestCORSOpenMode(t *testing.T) {
	t.Parallel()
	for _, place := range []string{"", "*", ` "*" `} {
		env := apitest.NewWith(t, apitest.Options{PlaceURL: place})
		res := env.Send(t, apitest.Request{Method: "GET", Path: "/", Header: http.Header{"Origin": {"https://any.example"}}})
		if res.Header.Get("Access-Control-Allow-Origin") != "*" || res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("PLACE_URL=%q: headers %v", place, res.Header)
		}
		if res.Header.Get("Access-Control-Expose-Headers") != "Content-Disposition" {
			t.Errorf("expose headers: %q", res.Header.Get("Access-Control-Expose-Headers"))
		}
		pre := env.Send(t, apitest.Request{Method: "OPTIONS", Path: "/auth/login", Header: http.Header{
			"Origin": {"https://any.example"}, "Access-Control-Request-Method": {"POST"},
			"Access-Control-Request-Headers": {"authorization,content-type"}}})
		pre.Status(t, 200)
		if string(pre.Body) != "OK" || pre.Header.Get("Access-Control-Allow-Origin") != "*" ||
			pre.Header.Get("Access-Control-Allow-Methods") != "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT" ||
			pre.Header.Get("Access-Control-Allow-Headers") != "authorization,content-type" ||
			pre.Header.Get("Access-Control-Max-Age") != "600" || !strings.HasPrefix(pre.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("preflight: %v %s", pre.Header, pre.Body)
		}
	}
}

func TestCORSListMode(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{PlaceURL: `"https://app.example, http://localhost:5173,"`})
	res := env.Send(t, apitest.Request{Method: "GET", Path: "/", Header: http.Header{"Origin": {"http://localhost:5173"}}})
	h := res.Header
	if h.Get("Access-Control-Allow-Origin") != "http://localhost:5173" || h.Get("Access-Control-Allow-Credentials") != "true" || h.Get("Vary") != "Origin" {
		t.Errorf("listed origin: %v", h)
	}
	res = env.Send(t, apitest.Request{Method: "GET", Path: "/", Header: http.Header{"Origin": {"https://evil.example"}}})
	res.Status(t, 200)
	if res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("unlisted origin: %v", res.Header)
	}
	// Errors carry CORS headers too, so the SPA can read them.
	res = env.Send(t, apitest.Request{Method: "GET", Path: "/auth/check", Header: http.Header{"Origin": {"https://app.example"}}})
	if res.Code != 401 || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("401 CORS: %d %v", res.Code, res.Header)
	}
	pre := env.Send(t, apitest.Request{Method: "OPTIONS", Path: "/auth/login", Header: http.Header{
		"Origin": {"https://app.example"}, "Access-Control-Request-Method": {"POST"}}})
	pre.Status(t, 200)
	if pre.Header.Get("Access-Control-Allow-Origin") != "https://app.example" || pre.Header.Get("Access-Control-Allow-Credentials") != "true" || pre.Header.Get("Vary") != "Origin" {
		t.Errorf("listed preflight: %v", pre.Header)
	}
	bad := env.Send(t, apitest.Request{Method: "OPTIONS", Path: "/auth/login", Header: http.Header{
		"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"POST"}}})
	bad.Status(t, 400)
	if string(bad.Body) != "Disallowed CORS origin" || !strings.HasPrefix(bad.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("disallowed preflight: %v %s", bad.Header, bad.Body)
	}
}

// A request waiting longer than DB_POOL_TIMEOUT for a connection gets 503
// with Retry-After instead of hanging.
func TestPoolExhaustion(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{PoolMax: 1, PoolWait: 300 * time.Millisecond})
	u := env.User(t, auth.Student)
	// Open rows hold the pool's only connection until they are closed.
	held, err := env.Pool.Query(context.Background(), `SELECT 1`)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := env.Do(t, "GET", "/auth/check", u, nil)
	waited := time.Since(start)
	res.Error(t, 503, "Сервер перегружен, повторите попытку позже")
	if res.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	if waited < 250*time.Millisecond {
		t.Errorf("answered after %s, before the pool timeout", waited)
	}
	held.Close()
	env.Do(t, "GET", "/auth/check", u, nil).Status(t, 200)
}

func TestRequestBodyLimit(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	big := `{"iin":"` + strings.Repeat("1", 3<<20) + `","password":"x"}`
	env.Do(t, "POST", "/auth/login", noToken, big).Error(t, 413, "Request Entity Too Large")
}

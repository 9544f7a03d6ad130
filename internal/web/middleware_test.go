package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"platform/internal/web"
)

// A panic in a handler becomes a logged 500 with the JSON body and the
// security headers, and the connection stays usable for the next request.
func TestRecoverPanic(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	r := chi.NewRouter()
	r.Use(web.Edge(log, nil), web.SecurityHeaders, web.Recover)
	r.Get("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	r.Get("/ok", func(w http.ResponseWriter, _ *http.Request) { _ = web.OK(w, map[string]int{"a": 1}) })
	srv := httptest.NewServer(r)
	defer srv.Close()

	var reused []bool
	get := func(path string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
		res, err := srv.Client().Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get("/panic")
	if res.StatusCode != 500 || body != `{"detail":"Internal Server Error"}` {
		t.Fatalf("panic answered %d %s", res.StatusCode, body)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("500 without security headers: %v", res.Header)
	}
	if !strings.Contains(logs.String(), "panic in handler") || !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "stack=") {
		t.Errorf("panic not logged with its stack: %s", logs.String())
	}
	res, body = get("/ok")
	if res.StatusCode != 200 || body != `{"a":1}` {
		t.Errorf("after panic: %d %s", res.StatusCode, body)
	}
	if len(reused) != 2 || !reused[1] {
		t.Errorf("connection not reused after the panic: %v", reused)
	}
}

// Non-application errors are logged once and answered with a generic 500;
// the cause never reaches the client.
func TestWriteErrorHidesCause(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	r := chi.NewRouter()
	r.Use(web.Edge(log, nil))
	r.Get("/fail", web.Handle(func(http.ResponseWriter, *http.Request) error {
		return io.ErrClosedPipe
	}))
	srv := httptest.NewServer(r)
	defer srv.Close()
	res, err := http.Get(srv.URL + "/fail")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 500 || string(b) != `{"detail":"Internal Server Error"}` {
		t.Errorf("got %d %s", res.StatusCode, b)
	}
	if strings.Count(logs.String(), "io: read/write on closed pipe") != 1 {
		t.Errorf("cause logged %d times: %s", strings.Count(logs.String(), "closed pipe"), logs.String())
	}
}

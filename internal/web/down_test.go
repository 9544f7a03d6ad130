package web_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"platform/internal/apperr"
	"platform/internal/web"
)

// Issue 22.4: a dependency's outage carried by the error (apperr.Down) is a
// 503 with its Retry-After and metrics reason, logged once per burst as
// that dependency, never as the database.
func TestDownIsLoggedOncePerBurstAsItsDependency(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	r := chi.NewRouter()
	var reasons []string
	r.Use(web.Edge(log, nil), func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			reasons = append(reasons, web.ShedReason(r.Context()))
		})
	})
	r.Post("/upload", web.Handle(func(http.ResponseWriter, *http.Request) error {
		return apperr.Down("store", 5*time.Second, errors.Join(errors.New("storage: save"), syscall.ECONNREFUSED))
	}))
	srv := httptest.NewServer(r)
	defer srv.Close()
	for range 3 {
		res, err := srv.Client().Post(srv.URL+"/upload", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "5" ||
			!strings.Contains(string(b), "Сервер перегружен") {
			t.Fatalf("got %d Retry-After %q %s", res.StatusCode, res.Header.Get("Retry-After"), b)
		}
	}
	if n := strings.Count(logs.String(), "store unavailable; answering 503"); n != 1 {
		t.Fatalf("%d store lines for a burst of 3, want 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "database") || strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("logged as the database or as an error:\n%s", logs.String())
	}
	for _, reason := range reasons {
		if reason != "store_down" {
			t.Fatalf("shed reasons %v, want store_down", reasons)
		}
	}
}

package openapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"platform/internal/openapi"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	h, err := openapi.Handler()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	want, _ := openapi.JSON()
	if rec.Body.String() != string(want) {
		t.Error("body differs from JSON()")
	}
}

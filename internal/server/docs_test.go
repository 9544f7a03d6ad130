package server_test

import (
	"net/http"
	"strings"
	"testing"

	"platform/internal/apitest"
	"platform/internal/openapi"
)

// GET /docs (issue 24) is served only with API_DOCS on: the page, the
// vendored bundle and its licence, each under the page's own CSP (this
// origin only); off, all three are unknown paths.
func TestDocsRoutes(t *testing.T) {
	t.Parallel()
	on := apitest.NewWith(t, apitest.Options{APIDocs: true})
	for path, want := range map[string]string{
		"/docs":                     `<redoc spec-url="/openapi.json">`,
		"/docs/redoc.standalone.js": "Redoc",
		"/docs/LICENSE":             "MIT License",
	} {
		res := on.Do(t, "GET", path, apitest.User{}, nil).Status(t, http.StatusOK)
		if !strings.Contains(string(res.Body), want) {
			t.Errorf("GET %s lacks %q", path, want)
		}
		if got := res.Header.Get("Content-Security-Policy"); got != openapi.DocsCSP {
			t.Errorf("GET %s: CSP %q", path, got)
		}
		if strings.Contains(openapi.DocsCSP, "http") || strings.Contains(openapi.DocsCSP, "*") {
			t.Errorf("the CSP admits another origin: %s", openapi.DocsCSP)
		}
	}
	// The bundle as served reaches no other origin by itself.
	bundle := on.Do(t, "GET", "/docs/redoc.standalone.js", apitest.User{}, nil).Body
	if strings.Contains(string(bundle), "cdn.redoc.ly") {
		t.Error("the served bundle still loads its logo from cdn.redoc.ly")
	}
	off := apitest.New(t)
	for _, path := range []string{"/docs", "/docs/redoc.standalone.js", "/docs/LICENSE"} {
		off.Do(t, "GET", path, apitest.User{}, nil).Error(t, http.StatusNotFound, "Not Found")
	}
}

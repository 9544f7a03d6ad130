package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"platform/internal/apitest"
	"platform/internal/openapi"
	"platform/internal/openapi/openapitest"
	"platform/internal/server"
)

// GET /openapi.json is served only with API_DOCS on; off, it is an unknown
// path like any other.
func TestOpenAPIJSON(t *testing.T) {
	t.Parallel()
	want, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	on := apitest.NewWith(t, apitest.Options{APIDocs: true})
	res := on.Do(t, "GET", "/openapi.json", apitest.User{}, nil).Status(t, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if string(res.Body) != string(want) {
		t.Error("GET /openapi.json is not openapi.JSON()")
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("GET /openapi.json lacks the security headers")
	}

	off := apitest.New(t)
	off.Do(t, "GET", "/openapi.json", apitest.User{}, nil).Error(t, http.StatusNotFound, "Not Found")
}

// walked lists the router's routes as "METHOD pattern", with the API_DOCS
// route on.
func walked(t *testing.T, env *apitest.Env) []string {
	t.Helper()
	h := server.New(server.Deps{Pool: env.Pool, Tokens: env.Tokens, Hasher: env.Hasher, Store: env.Store, APIDocs: true})
	routes, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("server.New is a %T, not a chi router", h)
	}
	var out []string
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRouteParity fails when the router and the OpenAPI document disagree,
// in either direction: a route the document lacks, or an operation no route
// serves. Patterns are compared with one trailing slash removed, since every
// route also answers with it (API.md §0.3) and the three collection roots
// are declared with it (/admin/users/, …); the rest-of-path routes are
// chi's "*" (the document's x-chi-pattern); GET /openapi.json is the
// document itself, not part of the API it describes.
func TestRouteParity(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	norm := func(s string) string {
		if len(s) > 1 && !strings.HasSuffix(s, "*") {
			return strings.TrimSuffix(s, "/")
		}
		return s
	}
	routes := map[string]bool{}
	for _, r := range walked(t, env) {
		method, pattern, _ := strings.Cut(r, " ")
		if pattern == "/openapi.json" || strings.HasPrefix(pattern, "/docs") { // the document and its reference page
			continue
		}
		routes[method+" "+norm(pattern)] = true
	}
	ops, err := openapitest.Operations()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, op := range ops {
		documented[op.Method+" "+norm(op.Pattern)] = true
	}
	for _, r := range sortedKeys(routes) {
		if !documented[r] {
			t.Errorf("route not in the OpenAPI document: %s", r)
		}
	}
	for _, d := range sortedKeys(documented) {
		if !routes[d] {
			t.Errorf("documented operation no route serves: %s", d)
		}
	}
	if len(routes) < 60 {
		t.Errorf("only %d routes walked", len(routes))
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

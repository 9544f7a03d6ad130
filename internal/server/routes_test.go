package server_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"platform/internal/apitest"
	"platform/internal/auth"
	"platform/internal/server"
)

// literalPrefixes are the routes whose paths are file names, taken literally (API.md §0.3).
var literalPrefixes = []string{"/files/download/", "/static/photos/"}

// registered walks the real router: pattern → methods.
func registered(t *testing.T, env *apitest.Env) map[string][]string {
	t.Helper()
	h := server.New(server.Deps{Log: nil, Pool: env.Pool, Tokens: env.Tokens, Hasher: env.Hasher, Store: env.Store})
	routes, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("server.New is a %T, not a chi router", h)
	}
	out := map[string][]string{}
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out[route] = append(out[route], method)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 40 {
		t.Fatalf("only %d routes walked", len(out))
	}
	return out
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// concrete fills a pattern: integer and IIN parameters with values no row has.
func concrete(pattern string) string {
	p := pathParam.ReplaceAllStringFunc(pattern, func(name string) string {
		if name == "{iin}" {
			return "000000000000"
		}
		return "0"
	})
	return strings.ReplaceAll(p, "*", "x")
}

func isLiteral(pattern string) bool {
	for _, p := range literalPrefixes {
		if strings.HasPrefix(pattern, p) {
			return true
		}
	}
	return false
}

// Every route answers its path with one extra trailing slash exactly as the
// path itself (the /x/ routes of the original also answer /x), without a
// redirect; percent-encoded paths are routed decoded, as Starlette does.
func TestEveryRouteTrailingSlash(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	for pattern, methods := range registered(t, env) {
		if isLiteral(pattern) {
			continue
		}
		path := concrete(pattern)
		other := path + "/"
		if strings.HasSuffix(path, "/") {
			other = strings.TrimSuffix(path, "/")
		}
		// Logout ends every session of its caller (issue 19): each call
		// gets a caller of its own.
		caller := func() apitest.User {
			if path == "/auth/logout" {
				return env.User(t, auth.Admin)
			}
			return admin
		}
		for _, m := range methods {
			want := env.Do(t, m, path, caller(), nil)
			if want.Code == 404 && want.Detail(t) == "Not Found" || want.Code == 405 || want.Code/100 == 3 {
				t.Errorf("%s %s: not routed: %d %s", m, path, want.Code, want.Body)
				continue
			}
			got := env.Do(t, m, other, caller(), nil)
			if got.Code != want.Code || string(got.Body) != string(want.Body) {
				t.Errorf("%s %s: %d %s; %s: %d %s", m, path, want.Code, want.Body, other, got.Code, got.Body)
			}
			if enc := encodeFirst(path); enc != path {
				got := env.Do(t, m, enc, caller(), nil)
				if got.Code != want.Code || string(got.Body) != string(want.Body) {
					t.Errorf("%s %s: %d %s; %s: %d %s", m, path, want.Code, want.Body, enc, got.Code, got.Body)
				}
			}
		}
	}
}

// encodeFirst percent-encodes the first digit or letter after the last
// slash ("/tests/0" → "/tests/%30").
func encodeFirst(path string) string {
	i := strings.LastIndex(strings.TrimSuffix(path, "/"), "/") + 1
	if i >= len(path) || !regexp.MustCompile(`[0-9a-z]`).MatchString(path[i:i+1]) {
		return path
	}
	return path[:i] + "%" + strings.ToUpper(hexByte(path[i])) + path[i+1:]
}

func hexByte(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// A known path with a wrong method is 405 with Allow listing the path's
// methods, before authentication (routing comes first in FastAPI); HEAD is
// answered only by the two file routes.
func TestEveryRouteMethods(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	for name, as := range map[string]apitest.User{"no token": noToken, "admin": env.User(t, auth.Admin)} {
		t.Run(name, func(t *testing.T) { everyRouteMethods(t, env, as) })
	}
}

// everyRouteMethods checks every walked route against every wrong method, as the caller.
func everyRouteMethods(t *testing.T, env *apitest.Env, as apitest.User) {
	routes := registered(t, env)
	// answers reports whether some route answers method at path.
	answers := func(method, path string) bool {
		for pattern, methods := range routes {
			re := patternRE(pattern)
			if slices.Contains(methods, method) && (re.MatchString(path) || re.MatchString(path+"/")) {
				return true
			}
		}
		return false
	}
	for pattern, methods := range routes {
		path := concrete(pattern)
		hasHead := slices.Contains(methods, http.MethodHead)
		if hasHead != isLiteral(pattern) {
			t.Errorf("%s: HEAD registered = %v", pattern, hasHead)
		}
		if !hasHead {
			res := env.Do(t, http.MethodHead, path, as, nil)
			if res.Code != 405 {
				t.Errorf("HEAD %s: %d, want 405", path, res.Code)
			}
		}
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if answers(m, path) {
				continue // e.g. GET /tests/create is GET /tests/{test_id}
			}
			res := env.Do(t, m, path, as, nil)
			if res.Code != 405 || res.Detail(t) != "Method Not Allowed" {
				t.Errorf("%s %s: %d %s, want 405", m, path, res.Code, res.Body)
				break
			}
			// Allow lists the pattern's methods, and any other that answers the
			// path (GET /tests/create is GET /tests/{test_id}), nothing else.
			allow := strings.Split(res.Header.Get("Allow"), ", ")
			for _, want := range methods {
				if !slices.Contains(allow, want) {
					t.Errorf("%s %s: Allow %q lacks %s", m, path, res.Header.Get("Allow"), want)
				}
			}
			for _, got := range allow {
				if !answers(got, path) {
					t.Errorf("%s %s: Allow %q lists %s", m, path, res.Header.Get("Allow"), got)
				}
			}
			break
		}
	}
}

// patternRE is a chi pattern as a regular expression.
func patternRE(pattern string) *regexp.Regexp {
	parts := pathParam.Split(pattern, -1)
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, `.*`)
	}
	return regexp.MustCompile("^" + strings.Join(parts, `[^/]+`) + "$")
}

// mountPrefixes are the URL prefixes of the domains (server/routes.go).
var mountPrefixes = []string{"/auth", "/user", "/admin/users", "/admin/groups", "/admin/modules",
	"/access", "/lessons", "/tests", "/files/download", "/static/photos"}

// An unknown path under any prefix is 404 "Not Found" with or without a
// token, whatever the method: routing comes before authentication (API.md
// §0.3). Under /files/download/ every path is a file name, so there a token
// is needed and a missing file is that route's own 404 (§10).
func TestUnknownPathsUnderPrefixes(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	// Every route lives under a prefix here, or is one of the root's own.
	for pattern := range registered(t, env) {
		if slices.Contains([]string{"/", "/healthz", "/readyz"}, pattern) {
			continue
		}
		if !slices.ContainsFunc(mountPrefixes, func(p string) bool { return strings.HasPrefix(pattern, p+"/") }) {
			t.Errorf("%s: under no prefix of the test", pattern)
		}
	}
	callers := map[string]apitest.User{
		"no token": noToken, "admin": env.User(t, auth.Admin),
		"teacher": env.User(t, auth.Teacher), "student": env.User(t, auth.Student),
	}
	for _, prefix := range mountPrefixes {
		for _, sub := range []string{"/nope/deeper", "/1/nope", "/nope/1/deeper/", "/1/users/2/nope"} {
			for name, as := range callers {
				for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
					res := env.Do(t, m, prefix+sub, as, nil)
					switch {
					case prefix == "/files/download" && (m != "GET"):
						if res.Code != 405 || res.Header.Get("Allow") != "GET, HEAD" {
							t.Errorf("%s %s (%s): %d Allow %q, want 405 GET, HEAD", m, prefix+sub, name, res.Code, res.Header.Get("Allow"))
						}
					case prefix == "/files/download" && as == noToken:
						if res.Code != 401 || res.Detail(t) != "Not authenticated" {
							t.Errorf("%s %s (%s): %d %s, want 401", m, prefix+sub, name, res.Code, res.Body)
						}
					case prefix == "/files/download":
						if res.Code != 404 || res.Detail(t) != "Файл не найден" {
							t.Errorf("%s %s (%s): %d %s, want the download's 404", m, prefix+sub, name, res.Code, res.Body)
						}
					case prefix == "/static/photos" && m != "GET":
						if res.Code != 405 || res.Header.Get("Allow") != "GET, HEAD" {
							t.Errorf("%s %s (%s): %d Allow %q, want 405 GET, HEAD", m, prefix+sub, name, res.Code, res.Header.Get("Allow"))
						}
					default:
						if res.Code != 404 || string(res.Body) != `{"detail":"Not Found"}` {
							t.Errorf("%s %s (%s): %d %s, want 404 Not Found", m, prefix+sub, name, res.Code, res.Body)
						}
					}
				}
			}
		}
	}
}

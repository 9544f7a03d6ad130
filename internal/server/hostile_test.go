package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"platform/internal/apitest"
	"platform/internal/auth"
	"platform/internal/server"
)

// Issue 10.5 and 10.6: bytes PostgreSQL cannot store (invalid UTF-8, NUL)
// in path parameters, query strings, form fields and token claims are
// refused at the edge with a 422 (401 for a token), never a 500; and a
// form Go cannot parse is a 422 with a fixed text, no parser message.
func TestHostileBytesAtTheEdge(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	teacher := env.User(t, auth.Teacher)
	form := func(body string) apitest.Request {
		h := http.Header{}
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		return apitest.Request{Method: "POST", Path: "/auth/token", Body: strings.NewReader(body), Header: h}
	}
	cases := []struct {
		name string
		req  apitest.Request
		loc  string
		why  string
	}{
		{"token form username not UTF-8", form("username=%FF&password=x"), "body.username", "строка должна быть в кодировке UTF-8"},
		{"token form password NUL", form("username=111111111111&password=a%00"), "body.password", "строка не должна содержать символ NUL"},
		{"by-iin NUL", apitest.Request{Method: "GET", Path: "/user/by-iin/%00", Token: teacher.Token}, "path.iin", "строка не должна содержать символ NUL"},
		{"delete user not UTF-8", apitest.Request{Method: "DELETE", Path: "/admin/users/%FF", Token: admin.Token}, "path.iin", "строка должна быть в кодировке UTF-8"},
		{"query not UTF-8", apitest.Request{Method: "GET", Path: "/admin/users/?x=%C3", Token: admin.Token}, "query.x", "строка должна быть в кодировке UTF-8"},
		{"query key NUL", apitest.Request{Method: "GET", Path: "/access/my-modules?a%00=1", Token: admin.Token}, "query.a\x00", "строка не должна содержать символ NUL"},
		{"download path not UTF-8", apitest.Request{Method: "GET", Path: "/files/download/homework/%FF.txt", Token: teacher.Token}, "path.file_path", "строка должна быть в кодировке UTF-8"},
	}
	for _, c := range cases {
		is := env.Send(t, c.req).HasIssue(t, "value_error", c.loc)
		if is.Ctx["error"] != c.why {
			t.Errorf("%s: %+v", c.name, is)
		}
	}

	// A token whose subject holds NUL is no token: 401, not a 500.
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "1111\x0011", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(apitest.TestSecret))
	if err != nil {
		t.Fatal(err)
	}
	env.Send(t, apitest.Request{Method: "GET", Path: "/auth/check", Token: tok}).Error(t, 401, "Вы не авторизованы")

	// A broken multipart form: a fixed 422 text, no parser message.
	h := http.Header{}
	h.Set("Content-Type", "multipart/form-data; boundary=X")
	r := env.Send(t, apitest.Request{Method: "POST", Path: "/auth/token", Header: h,
		Body: strings.NewReader("--X\r\nno colon here\r\n\r\nv\r\n--X--\r\n")})
	is := r.HasIssue(t, "value_error", "body")
	if is.Msg != "Value error, некорректные данные формы" || bytes.Contains(r.Body, []byte("malformed")) {
		t.Errorf("broken form: %s", r.Body)
	}
	// A JSON syntax error speaks Python's json words, not Go's parser's.
	r = env.Do(t, "POST", "/auth/login", apitest.User{}, `{"iin": x}`)
	if is := r.HasIssue(t, "json_invalid", "body.8"); is.Ctx["error"] != "Expecting value" {
		t.Errorf("json error: %s", r.Body)
	}
}

// Issue 10.7: GET /user/by-iin is limited per user: beyond the burst a 429
// with Retry-After and a clear detail, before the database is asked; other
// users keep their own budget.
func TestIINLookupRateLimit(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{Limits: server.Limits{IINLookupsPerMinute: 1, IINLookupBurst: 3}})
	a := env.User(t, auth.Student)
	b := env.User(t, auth.Student)
	for i := range 3 {
		env.Do(t, "GET", "/user/by-iin/"+fmt.Sprintf("%012d", i), a, nil).Status(t, 404)
	}
	r := env.Do(t, "GET", "/user/by-iin/"+b.IIN, a, nil).Status(t, 429)
	wait, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || wait < 1 || wait > 60 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	if want := fmt.Sprintf("Слишком много запросов поиска по ИИН. Повторите через %d с.", wait); r.Detail(t) != want {
		t.Errorf("detail %q, want %q", r.Detail(t), want)
	}
	env.Do(t, "GET", "/user/by-iin/"+a.IIN, b, nil).Status(t, 200)
}

// Issue 10, done-when: 5,000 random requests over every route — random
// methods, parameters (ids, hostile bytes, traversal, huge numbers), query
// strings, bodies (JSON, broken JSON, forms, broken multipart) and tokens
// (none, garbage, each role, a NUL subject) — get no 5xx. The histogram
// of statuses is logged. Sequential, so the bcrypt queue's designed 503
// under overload cannot occur.
func TestRouteFuzzNo5xx(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	users := []apitest.User{{}, env.User(t, auth.Student), env.User(t, auth.Teacher), env.User(t, auth.Admin),
		{Token: "garbage"}, {Token: "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."}}
	env.Exec(t, `INSERT INTO modules (title) VALUES ('М')`)
	env.Exec(t, `INSERT INTO subjects (module_id, teacher_id, title) VALUES ((SELECT min(id) FROM modules), $1, 'П')`, users[2].ID)
	env.Exec(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ((SELECT min(id) FROM subjects), 'У', 'pdf', 'https://v')`)
	env.Exec(t, `INSERT INTO groups (name) VALUES ('Г')`)
	routes := registered(t, env)
	patterns := make([]string, 0, len(routes))
	for p := range routes {
		patterns = append(patterns, p)
	}
	slices.Sort(patterns)
	params := []string{"1", "2", "0", "-1", "2147483648", "99999999999999999999", "x", "%FF", "%00", "%C3%28",
		"..", "%2e%2e", "..%2f..%2fetc%2fpasswd", "111111111111", "a%20b", strings.Repeat("9", 300), "1.5", "%E2%80%AE"}
	queries := []string{"", "?limit=1", "?limit=0", "?offset=-5", "?limit=abc", "?search=%FF", "?search=%00",
		"?limit=10001", "?offset=99999999999", "?a=%zz", "?search=" + strings.Repeat("и", 500)}
	bodies := []string{"", "{}", "[]", "null", `{"iin": "%s"}`, `{"title": "\u0000"}`, "{", `{"a": 1}}`, "\xff\xfe",
		`{"title": "x", "type": "pdf", "content_url": "/static/lesson_docs/../x"}`,
		`{"questions": [{"options": []}], "title": 1}`, `[1, "2", 3.5, true]`, `{"grade": 1e400}`,
		`{"iin": "111111111111", "password": "x"}`, `{"group_id": "1", "module_id": 1}`}
	types := []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=B",
		"multipart/form-data", "text/plain", ""}
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
	param := regexp.MustCompile(`\{[^}]+\}|\*`)
	rng := rand.New(rand.NewPCG(10, 5000))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	histogram := map[int]int{}
	client := env.Server.Client()
	for i := range 5000 {
		pattern := pick(patterns)
		path := param.ReplaceAllStringFunc(pattern, func(string) string { return pick(params) })
		method := pick(methods)
		if rng.IntN(2) == 0 {
			method = pick(routes[pattern]) // mostly routed requests, not 405s
		}
		body := pick(bodies)
		if rng.IntN(4) == 0 {
			body = "--B\r\nContent-Disposition: form-data; name=\"" + pick([]string{"file", "files", "comment", "photo", "username"}) +
				"\"; filename=\"" + pick([]string{"a.xlsx", "a.png", "../x", "a\\b", "", "a.txt"}) + "\"\r\n\r\n" + body + "\r\n--B--\r\n"
		}
		req, err := http.NewRequest(method, env.Server.URL+path+pick(queries), strings.NewReader(body))
		if err != nil {
			continue // an unsendable URL is not a server answer
		}
		if ct := pick(types); ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if u := users[rng.IntN(len(users))]; u.Token != "" {
			req.Header.Set("Authorization", "Bearer "+u.Token)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d %s %s: %v", i, method, path, err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		histogram[res.StatusCode]++
		if res.StatusCode >= 500 {
			t.Errorf("request %d: %s %s → %d %s", i, method, req.URL.RequestURI(), res.StatusCode, got)
		}
		if res.StatusCode == 422 && bytes.Contains(got, []byte("malformed")) {
			t.Errorf("request %d: parser message in a 422: %s", i, got)
		}
	}
	codes := make([]int, 0, len(histogram))
	for c := range histogram {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var sb strings.Builder
	for _, c := range codes {
		fmt.Fprintf(&sb, " %d×%d", c, histogram[c])
	}
	t.Logf("status histogram of 5000 requests:%s", sb.String())
}

// Issue 21.5: a malformed chunked body is a 400, never a 500 with an
// ERROR line, on JSON routes (anonymous and authenticated) and uploads.
func TestMalformedChunkedBodyIs400(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	addr := env.Server.Listener.Addr().String()
	for _, c := range []struct{ path, ct, token string }{
		{"/auth/login", "application/json", ""},
		{"/auth/refresh", "application/json", ""},
		{"/admin/groups/", "application/json", admin.Token},
		{"/user/upload-photo", "multipart/form-data; boundary=xyz", admin.Token},
		{"/admin/groups/upload-excel", "multipart/form-data; boundary=xyz", admin.Token},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		req := "POST " + c.path + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + c.ct + "\r\nTransfer-Encoding: chunked\r\n"
		if c.token != "" {
			req += "Authorization: Bearer " + c.token + "\r\n"
		}
		// A chunk size that is not hexadecimal.
		req += "\r\n5\r\n{\"a\":\r\nzz\r\nxx\r\n0\r\n\r\n"
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		_ = res.Body.Close()
		_ = conn.Close()
		if res.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", c.path, res.StatusCode)
		}
	}
	if logs := env.Logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("ERROR in the log:\n%s", logs)
	}
}

// Issue 21.5: an import whose file name holds NUL or is not UTF-8 is a 422
// at ["body", "file"], not a 500 from the database (SQLSTATE 22021).
func TestImportFileNameNotText(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	for _, name := range []string{"a%00b.xlsx", "%FF%FE.xlsx"} {
		body := "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''" + name +
			"\r\nContent-Type: application/octet-stream\r\n\r\nPK\x03\x04 not really a workbook\r\n--xyz--\r\n"
		env.Send(t, apitest.Request{Method: "POST", Path: "/admin/groups/upload-excel", Token: admin.Token,
			Body: strings.NewReader(body), Header: http.Header{"Content-Type": {"multipart/form-data; boundary=xyz"}}}).
			HasIssue(t, "value_error", "body.file")
	}
}

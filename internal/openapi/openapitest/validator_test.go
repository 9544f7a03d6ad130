package openapitest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"platform/internal/openapi"
	"platform/internal/openapi/openapitest"
)

// validator is built once per test: NewValidator also checks the document
// against the OpenAPI 3.1 meta-schema, so every test here fails if the
// document stops being valid.
func validator(t *testing.T) *openapitest.Validator {
	t.Helper()
	v, err := openapitest.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	t.Parallel()
	validator(t)
	doc, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		OpenAPI    string `json:"openapi"`
		Components struct {
			SecuritySchemes map[string]struct {
				Type, Scheme, BearerFormat string
			} `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("JSON() is not JSON: %v", err)
	}
	if d.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", d.OpenAPI)
	}
	if s := d.Components.SecuritySchemes["bearerAuth"]; s.Type != "http" || s.Scheme != "bearer" || s.BearerFormat != "JWT" {
		t.Errorf("bearerAuth = %+v, want http bearer JWT", s)
	}
	if !strings.HasPrefix(string(doc), "{\n  \"openapi\": \"3.1.0\"") {
		t.Errorf("JSON() does not keep the document's key order: starts %q", doc[:40])
	}
	if strings.Contains(string(doc), `\u003c`) {
		t.Error("JSON() escapes < as \\u003c")
	}
}

// wantOperations is every endpoint of API.md §1–§11 plus /healthz and
// /readyz (66), and the five added since by issues 10, 11 and 15 (the
// gradebook, the two import-job reads, refresh and logout): 71 endpoints,
// 73 operations because the two file routes answer HEAD as well (§10, §11).
var wantOperations = []string{
	"GET /",
	// Issue 24: deadlines, extensions, grade history.
	"PATCH /lessons/{lesson_id}/deadlines",
	"GET /lessons/{lesson_id}/extensions",
	"PUT /lessons/{lesson_id}/extensions/{user_id}",
	"DELETE /lessons/{lesson_id}/extensions/{user_id}",
	"GET /lessons/{lesson_id}/history",
	"GET /lessons/submission/{submission_id}/history",
	"DELETE /lessons/submission/{submission_id}/grade",
	"DELETE /access/subjects/{subject_id}/groups/{group_id}",
	"GET /access/access-overview",
	"GET /access/admin-modules",
	"GET /access/admin-modules/{module_id}",
	"GET /access/lessons/{lesson_id}",
	"GET /access/module/{module_id}/groups",
	"GET /access/my-modules",
	"GET /access/my-modules/{module_id}",
	"GET /access/subjects/{subject_id}/lessons",
	"GET /access/teacher-modules",
	"GET /access/teacher-modules/{module_id}",
	"GET /access/teacher-subjects",
	"POST /access/admin/group-to-module",
	"POST /access/admin/teacher-to-subject",
	"POST /access/subjects/{subject_id}/groups/{group_id}",
	"GET /admin/groups/",
	"POST /admin/groups/",
	"GET /admin/groups/imports",
	"GET /admin/groups/imports/{import_id}",
	"GET /admin/groups/imports/{import_id}/credentials.xlsx",
	"POST /admin/groups/upload-excel",
	"DELETE /admin/groups/{group_id}",
	"GET /admin/groups/{group_id}",
	"GET /admin/groups/{group_id}/users",
	"POST /admin/groups/{group_id}/users",
	"DELETE /admin/groups/{group_id}/users/{user_id}",
	"DELETE /admin/groups/{group_id}/with-users",
	"GET /admin/modules/",
	"POST /admin/modules/",
	"DELETE /admin/modules/subjects/{subject_id}",
	"GET /admin/modules/with-teachers",
	"DELETE /admin/modules/{module_id}",
	"GET /admin/modules/{module_id}",
	"PUT /admin/modules/{module_id}",
	"POST /admin/modules/{module_id}/subjects",
	"GET /admin/users/",
	"POST /admin/users/",
	"PATCH /admin/users/reset_password",
	"DELETE /admin/users/{iin}",
	"GET /auth/check",
	"POST /auth/login",
	"POST /auth/logout",
	"POST /auth/refresh",
	"POST /auth/token",
	"GET /files/download/{file_path}",
	"HEAD /files/download/{file_path}",
	"GET /healthz",
	"GET /lessons/student/grades",
	"GET /lessons/subjects/{subject_id}/gradebook",
	"DELETE /lessons/result/{result_id}",
	"DELETE /lessons/submission/{submission_id}",
	"PATCH /lessons/submission/{submission_id}/grade",
	"POST /lessons/add/subjects/{subject_id}",
	"POST /lessons/upload/lesson-file",
	"DELETE /lessons/{lesson_id}",
	"GET /lessons/{lesson_id}",
	"GET /lessons/{lesson_id}/my-submissions",
	"GET /lessons/{lesson_id}/submissions/files",
	"GET /lessons/{lesson_id}/submissions/tests",
	"POST /lessons/{lesson_id}/submit-homework",
	"GET /readyz",
	"GET /static/photos/{name}",
	"HEAD /static/photos/{name}",
	"GET /tests/by-subject/{subject_id}",
	"POST /tests/create",
	"POST /tests/submit",
	"DELETE /tests/{test_id}",
	"GET /tests/{test_id}",
	"PUT /tests/{test_id}",
	"GET /user/by-iin/{iin}",
	"PATCH /user/change-password",
	"POST /user/update-phone",
	"POST /user/upload-photo",
}

func TestOperations(t *testing.T) {
	t.Parallel()
	ops, err := openapitest.Operations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 81 || len(wantOperations) != 81 {
		t.Errorf("%d operations in the document, %d listed here; want 81 (79 endpoints + 2 HEAD)", len(ops), len(wantOperations))
	}
	var got []string
	ids := map[string]bool{}
	endpoints := map[string]bool{}
	for _, op := range ops {
		got = append(got, op.Method+" "+op.Path)
		if op.ID == "" || ids[op.ID] {
			t.Errorf("%s %s: operationId %q missing or repeated", op.Method, op.Path, op.ID)
		}
		ids[op.ID] = true
		if op.Method != http.MethodHead {
			endpoints[op.Path+" "+op.Method] = true
		}
		wantPattern := op.Path
		switch op.Path {
		case "/files/download/{file_path}":
			wantPattern = "/files/download/*"
		case "/static/photos/{name}":
			wantPattern = "/static/photos/*"
		}
		if op.Pattern != wantPattern {
			t.Errorf("%s %s: chi pattern %q, want %q", op.Method, op.Path, op.Pattern, wantPattern)
		}
	}
	if len(endpoints) != 79 {
		t.Errorf("%d endpoints (HEAD folded into GET), want 79", len(endpoints))
	}
	want := slices.Clone(wantOperations)
	slices.Sort(want)
	slices.Sort(got)
	for _, m := range diff(want, got) {
		t.Errorf("in the list but not in the document: %s", m)
	}
	for _, m := range diff(got, want) {
		t.Errorf("in the document but not in the list: %s", m)
	}
}

func diff(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

const jsonType = "application/json"

// sample is one response to check.
type sample struct {
	name        string
	method      string
	path        string
	reqHeader   map[string]string
	status      int
	contentType string
	header      map[string]string
	body        string
	wantErr     string // "" → valid; else a substring of the error
}

const (
	lesson = `{"id": 12, "title": "Введение", "description": null, "type": "video",
		"content_url": "/static/lesson_docs/3f.pdf", "subject_id": 4,
		"created_at": "2025-06-04T08:30:00Z", "result": null}`
	issue = `{"type": "string_pattern_mismatch", "loc": ["body", "iin"],
		"msg": "String should match pattern '^\\d{12}$'", "input": "123", "ctx": {"pattern": "^\\d{12}$"}}`
)

func TestValidator(t *testing.T) {
	t.Parallel()
	v := validator(t)
	samples := []sample{
		{name: "welcome", method: "GET", path: "/", status: 200, body: `{"message": "Добро пожаловать на платформу!"}`},
		{name: "welcome wrong text", method: "GET", path: "/", status: 200, body: `{"message": "hi"}`, wantErr: "message"},
		{name: "lesson", method: "GET", path: "/lessons/12", status: 200, body: lesson},
		{name: "lesson with one extra slash", method: "GET", path: "/lessons/12/", status: 200, body: lesson},
		{name: "lesson missing a required field", method: "GET", path: "/lessons/12", status: 200,
			body:    `{"id": 12, "title": "x", "type": "video", "content_url": "u", "subject_id": 4, "created_at": null, "result": null}`,
			wantErr: "description"},
		{name: "lesson with a string id", method: "GET", path: "/lessons/12", status: 200,
			body: strings.Replace(lesson, `"id": 12`, `"id": "12"`, 1), wantErr: "id"},
		{name: "naive datetime", method: "GET", path: "/lessons/12", status: 200,
			body: strings.Replace(lesson, `2025-06-04T08:30:00Z`, `2025-06-04T08:30:00`, 1), wantErr: "created_at"},
		{name: "lesson with a result", method: "GET", path: "/lessons/12", status: 200,
			body: strings.Replace(lesson, `"result": null`, `"result": {"id": 31, "user_id": 9, "lesson_id": 12, "test_id": null, "score": 66.67, "submitted_at": "2025-06-05T10:00:00.123456Z"}`, 1)},
		{name: "404 detail", method: "GET", path: "/lessons/12", status: 404, body: `{"detail": "Урок не найден или доступ запрещён"}`},
		{name: "undocumented status", method: "GET", path: "/lessons/12", status: 409, body: `{"detail": "x"}`, wantErr: "409"},
		{name: "422", method: "POST", path: "/auth/login", status: 422, body: `{"detail": [` + issue + `]}`},
		{name: "422 missing with null input", method: "POST", path: "/auth/login", status: 422,
			body: `{"detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": null}]}`},
		{name: "422 integer loc", method: "PUT", path: "/tests/5", status: 422,
			body: `{"detail": [{"type": "value_error", "loc": ["body", "questions", 0, "options"], "msg": "Value error, x", "input": [], "ctx": {"error": "x"}}]}`},
		{name: "422 as a string detail", method: "POST", path: "/auth/login", status: 422, body: `{"detail": "bad"}`, wantErr: "detail"},
		{name: "422 without msg", method: "POST", path: "/auth/login", status: 422,
			body: `{"detail": [{"type": "missing", "loc": ["body", "iin"], "input": {}}]}`, wantErr: "msg"},
		{name: "422 with url", method: "POST", path: "/auth/login", status: 422,
			body: `{"detail": [{"type": "missing", "loc": ["body", "iin"], "msg": "Field required", "input": {}, "url": "https://errors.pydantic.dev"}]}`, wantErr: "url"},
		{name: "422 loc outside body/path/query", method: "POST", path: "/auth/login", status: 422,
			body: `{"detail": [{"type": "missing", "loc": ["header", "x"], "msg": "Field required", "input": {}}]}`, wantErr: "loc"},
		{name: "login", method: "POST", path: "/auth/login", status: 200,
			body: `{"access_token": "eyJ", "token_type": "bearer", "refresh_token": "r1", "user": {"id": 9, "iin": "111111111111", "role": "student", "phone": null, "photo": null, "full_name": "Иванов Иван Иванович", "short_name": "Иванов И. И."}, "must_change_password": false}`},
		{name: "login without refresh_token", method: "POST", path: "/auth/login", status: 200,
			body:    `{"access_token": "eyJ", "token_type": "bearer", "user": {"id": 9, "iin": "111111111111", "role": "student", "phone": null, "photo": null, "full_name": "A", "short_name": "A"}, "must_change_password": false}`,
			wantErr: "refresh_token"},
		{name: "body timeout 408", method: "POST", path: "/auth/login", status: 408, body: `{"detail": "Request Timeout"}`},
		{name: "lookup rate limit 429", method: "GET", path: "/user/by-iin/111111111111", status: 429,
			header: map[string]string{"Retry-After": "2"}, body: `{"detail": "x"}`},
		{name: "limit out of range 422", method: "GET", path: "/admin/users/", status: 422,
			body: `{"detail": [{"type": "less_than_equal", "loc": ["query", "limit"], "msg": "Input should be less than or equal to 10000", "input": "10001", "ctx": {"le": 10000}}]}`},
		{name: "login with an unknown role", method: "POST", path: "/auth/login", status: 200,
			body:    `{"access_token": "eyJ", "token_type": "bearer", "user": {"id": 9, "iin": "111111111111", "role": "root", "phone": null, "photo": null, "full_name": "A", "short_name": "A"}}`,
			wantErr: "role"},
		{name: "401 with WWW-Authenticate", method: "GET", path: "/auth/check", status: 401,
			header: map[string]string{"WWW-Authenticate": "Bearer"}, body: `{"detail": "Not authenticated"}`},
		{name: "list users without slash", method: "GET", path: "/admin/users", status: 200,
			body: `[{"id": 1, "iin": "000000000001", "full_name": "A", "phone": null, "role": "admin", "photo": null}]`},
		{name: "list users with slash", method: "GET", path: "/admin/users/", status: 200, body: `[]`},
		{name: "reset_password null", method: "PATCH", path: "/admin/users/reset_password", status: 200, body: `null`},
		{name: "static segment beats a parameter", method: "POST", path: "/tests/create", status: 200,
			body: `{"id": 5, "title": "T", "subject_id": 4, "lesson_id": null}`},
		{name: "test delete 204", method: "DELETE", path: "/tests/5", status: 204, contentType: "-", body: ``},
		{name: "nullable correct_option_index", method: "GET", path: "/tests/5", status: 200,
			body: `{"id": 5, "title": "T", "subject_id": 4, "lesson_id": 13, "result": null, "questions": [{"id": 40, "question_text": "2+2?", "correct_option_index": null, "options": [{"id": 100, "option_text": "4", "option_index": 1}]}]}`},
		{name: "grades number", method: "GET", path: "/lessons/student/grades", status: 200,
			body: `[{"submission_id": 31, "lesson_id": 13, "lesson_title": "T", "lesson_type": "тест", "subject_title": "M", "module_title": "M1", "grade": 66.67, "submitted_at": null, "source": "test"}]`},
		{name: "grades bad source", method: "GET", path: "/lessons/student/grades", status: 200,
			body:    `[{"submission_id": 31, "lesson_id": 13, "lesson_title": "T", "lesson_type": "тест", "subject_title": "M", "module_title": "M1", "grade": 5, "submitted_at": null, "source": "exam"}]`,
			wantErr: "source"},
		{name: "download with slashes", method: "GET", path: "/files/download/homework/lesson_12/9_ab.pdf", status: 200,
			contentType: "application/octet-stream", body: "%PDF-1.4",
			header: map[string]string{"Content-Disposition": `attachment; filename="9_ab.pdf"`, "Accept-Ranges": "bytes", "Content-Length": "8"}},
		{name: "download range", method: "GET", path: "/files/download/lesson_docs/a.mp4", status: 206,
			contentType: "application/octet-stream", body: "ab", header: map[string]string{"Content-Range": "bytes 0-1/10"}},
		{name: "download HEAD", method: "HEAD", path: "/files/download/lesson_docs/a.mp4", status: 200, contentType: "application/octet-stream"},
		{name: "photo", method: "GET", path: "/static/photos/9_ab.png", status: 200, contentType: "image/png", body: "\x89PNG"},
		{name: "readyz down", method: "GET", path: "/readyz", status: 503, body: `{"detail": "База данных недоступна"}`},
		{name: "unknown path 404", method: "GET", path: "/nope", status: 404, body: `{"detail": "Not Found"}`},
		{name: "unknown path 200", method: "GET", path: "/nope", status: 200, body: `{}`, wantErr: "no such path"},
		{name: "wrong method 405", method: "PATCH", path: "/lessons/12", status: 405,
			header: map[string]string{"Allow": "GET, DELETE"}, body: `{"detail": "Method Not Allowed"}`},
		{name: "wrong method without Allow", method: "PATCH", path: "/lessons/12", status: 405, body: `{"detail": "Method Not Allowed"}`, wantErr: "Allow"},
		{name: "wrong method answered 200", method: "PATCH", path: "/lessons/12", status: 200, body: lesson, wantErr: "want 405"},
		{name: "preflight", method: "OPTIONS", path: "/auth/login", status: 200, contentType: "text/plain; charset=utf-8", body: "OK",
			reqHeader: map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}},
	}
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(s.method, s.path, nil)
			for k, val := range s.reqHeader {
				req.Header.Set(k, val)
			}
			h := http.Header{}
			switch s.contentType {
			case "":
				h.Set("Content-Type", jsonType)
			case "-":
			default:
				h.Set("Content-Type", s.contentType)
			}
			for k, val := range s.header {
				h.Set(k, val)
			}
			err := v.Validate(req, s.status, h, []byte(s.body))
			switch {
			case s.wantErr == "" && err != nil:
				t.Errorf("valid response rejected: %v", err)
			case s.wantErr != "" && err == nil:
				t.Errorf("invalid response accepted (want an error about %q)", s.wantErr)
			case s.wantErr != "" && !strings.Contains(err.Error(), s.wantErr):
				t.Errorf("error does not mention %q: %v", s.wantErr, err)
			}
		})
	}
}

// ValidateResponse reads the body of a real round trip and leaves it readable.
func TestValidateResponse(t *testing.T) {
	t.Parallel()
	v := validator(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", jsonType)
		_, _ = w.Write([]byte(`{"status": "ok"}`))
	}))
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := v.ValidateResponse(res); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || got["status"] != "ok" {
		t.Fatalf("body not readable after validation: %v %v", got, err)
	}
}

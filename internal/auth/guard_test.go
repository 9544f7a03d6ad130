package auth_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"platform/internal/apitest"
	"platform/internal/auth"
	"platform/internal/web"
)

// Each guard admits its roles and refuses the others with API.md §0.5.6's texts.
func TestRoleGuards(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	r := chi.NewRouter()
	r.Use(auth.Authenticate(env.Tokens, auth.NewRepo(env.Pool)))
	ok := func(w http.ResponseWriter, r *http.Request) {
		u := auth.MustUser(r.Context())
		_ = web.OK(w, map[string]any{"id": u.ID})
	}
	r.Get("/any", ok)
	r.With(auth.StudentOnly).Get("/student", ok)
	r.With(auth.TeacherOrAdmin).Get("/teacher", ok)
	r.With(auth.AdminOnly).Get("/admin", ok)
	srv := httptest.NewServer(r)
	defer srv.Close()

	users := map[auth.Role]apitest.User{
		auth.Student: env.User(t, auth.Student),
		auth.Teacher: env.User(t, auth.Teacher),
		auth.Admin:   env.User(t, auth.Admin),
	}
	const (
		onlyStudents = "Доступ воспрещен: только для студентов"
		onlyTeachers = "Доступ воспрещен: только для преподавателей"
		onlyAdmins   = "Доступ воспрещен: только для администраторов"
	)
	cases := []struct {
		path   string
		role   auth.Role
		status int
		detail string
	}{
		{"/any", auth.Student, 200, ""}, {"/any", auth.Teacher, 200, ""}, {"/any", auth.Admin, 200, ""},
		{"/student", auth.Student, 200, ""}, {"/student", auth.Teacher, 403, onlyStudents}, {"/student", auth.Admin, 403, onlyStudents},
		{"/teacher", auth.Student, 403, onlyTeachers}, {"/teacher", auth.Teacher, 200, ""}, {"/teacher", auth.Admin, 200, ""},
		{"/admin", auth.Student, 403, onlyAdmins}, {"/admin", auth.Teacher, 403, onlyAdmins}, {"/admin", auth.Admin, 200, ""},
	}
	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, c := range cases {
		status, body := get(c.path, users[c.role].Token)
		want := `{"detail":"` + c.detail + `"}`
		if status != c.status || (c.detail != "" && body != want) {
			t.Errorf("%s as %s: %d %s; want %d %s", c.path, c.role, status, body, c.status, want)
		}
	}
	for _, p := range []string{"/any", "/student", "/teacher", "/admin"} {
		if status, body := get(p, ""); status != 401 || body != `{"detail":"Not authenticated"}` {
			t.Errorf("%s without token: %d %s", p, status, body)
		}
	}
}

func TestShortName(t *testing.T) {
	for in, want := range map[string]string{
		"Иванов Иван Иванович": "Иванов И. И.",
		"Админ":                "Админ",
		"  Петров\tПётр  ":     "Петров П.",
		"":                     "",
		"   ":                  "",
		"Ли Ён Хо":             "Ли Ё. Х.",
	} {
		if got := auth.ShortName(in); got != want {
			t.Errorf("ShortName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnsureAdmin(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	count := func(iin string) int {
		return env.Count(t, `SELECT count(*) FROM users WHERE iin = $1 AND role = 'admin'`, iin)
	}
	// Missing password: nothing created.
	if err := auth.EnsureAdmin(ctx, env.Pool, env.Hasher, auth.BootstrapAdmin{IIN: "700000000001"}, log); err != nil || count("700000000001") != 0 {
		t.Fatalf("skipped case: %v", err)
	}
	a := auth.BootstrapAdmin{IIN: "700000000001", Password: "boot-pass", FullName: "Администратор", Phone: "+77000000000"}
	if err := auth.EnsureAdmin(ctx, env.Pool, env.Hasher, a, log); err != nil || count(a.IIN) != 1 {
		t.Fatalf("create: %v", err)
	}
	login(t, env, a.IIN, "boot-pass").Status(t, 200)
	// Run again with another password: the existing user is left alone.
	a.Password = "changed"
	if err := auth.EnsureAdmin(ctx, env.Pool, env.Hasher, a, log); err != nil {
		t.Fatal(err)
	}
	login(t, env, a.IIN, "boot-pass").Status(t, 200)
	// An existing non-admin with the IIN keeps its role.
	s := env.User(t, auth.Student)
	if err := auth.EnsureAdmin(ctx, env.Pool, env.Hasher, auth.BootstrapAdmin{IIN: s.IIN, Password: "x"}, log); err != nil || count(s.IIN) != 0 {
		t.Fatalf("existing student: %v", err)
	}
	// A phone that belongs to someone else: created without a phone.
	b := auth.BootstrapAdmin{IIN: "700000000002", Password: "p", FullName: "Второй", Phone: "+77000000000"}
	if err := auth.EnsureAdmin(ctx, env.Pool, env.Hasher, b, log); err != nil || count(b.IIN) != 1 {
		t.Fatalf("phone collision: %v", err)
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE iin = $1 AND phone IS NULL`, b.IIN); n != 1 {
		t.Errorf("second admin should have no phone")
	}
}

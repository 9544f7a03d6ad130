package users_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

func TestCreateUser(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	body := map[string]any{"iin": "111111111111", "full_name": "  Иванов Иван  ", "phone": "+77010000000",
		"role": "teacher", "password": "secret-1"}
	res := env.Do(t, "POST", "/admin/users/", admin, body)
	res.Status(t, 200)
	got := res.Map(t)
	id, _ := got["id"].(float64)
	want := map[string]any{"id": id, "iin": "111111111111", "full_name": "Иванов Иван", "phone": "+77010000000",
		"role": "teacher", "photo": nil}
	if id == 0 || !equalJSON(got, want) {
		t.Fatalf("got %v", got)
	}
	env.Do(t, "POST", "/auth/login", apitest.User{}, map[string]any{"iin": "111111111111", "password": "secret-1"}).Status(t, 200)
	var hash string
	env.Pool.QueryRow(t.Context(), `SELECT hashed_password FROM users WHERE iin = '111111111111'`).Scan(&hash)
	if !strings.HasPrefix(hash, "$2b$") {
		t.Fatalf("hash %q", hash)
	}

	// Without the slash, role null → student, no phone, blank phone → NULL: several users without phones.
	for i, extra := range []map[string]any{{"role": nil}, {"phone": "  "}, {}} {
		b := map[string]any{"iin": "22222222222" + string(rune('0'+i)), "full_name": "Б", "password": "x"}
		for k, v := range extra {
			b[k] = v
		}
		res := env.Do(t, "POST", "/admin/users", admin, b)
		res.Status(t, 200)
		if m := res.Map(t); m["role"] != "student" || m["phone"] != nil {
			t.Fatalf("got %v", m)
		}
	}

	// NUL cannot be stored in PostgreSQL text: 422, never a 500 from the insert.
	env.Do(t, "POST", "/admin/users/", admin, map[string]any{"iin": "444444444444", "full_name": "Нуль\u0000", "password": "x"}).
		HasIssue(t, "value_error", "body.full_name")

	cases := []struct {
		name   string
		body   map[string]any
		status int
		detail string
	}{
		{"iin taken", map[string]any{"iin": "111111111111", "full_name": "X", "phone": "+1", "password": "p"}, 400, "Пользователь с таким ИИН уже существует"},
		{"iin checked before phone", map[string]any{"iin": "111111111111", "full_name": "X", "phone": "+77010000000", "password": "p"}, 400, "Пользователь с таким ИИН уже существует"},
		{"phone taken", map[string]any{"iin": "333333333333", "full_name": "X", "phone": " +77010000000 ", "password": "p"}, 400, "Номер телефона уже используется"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env.Do(t, "POST", "/admin/users/", admin, c.body).Error(t, c.status, c.detail)
		})
	}
	issues := []struct {
		name      string
		body      any
		typ, loc  string
		msgPrefix string
	}{
		{"bad iin", map[string]any{"iin": "123", "full_name": "X", "password": "p"}, "string_pattern_mismatch", "body.iin", "String should match pattern"},
		{"blank name", map[string]any{"iin": "444444444444", "full_name": "   ", "password": "p"}, "string_too_short", "body.full_name", "String should have at least 1 character"},
		{"long name", map[string]any{"iin": "444444444444", "full_name": strings.Repeat("я", 256), "password": "p"}, "string_too_long", "body.full_name", "String should have at most 255 characters"},
		{"long phone", map[string]any{"iin": "444444444444", "full_name": "X", "phone": strings.Repeat("1", 21), "password": "p"}, "string_too_long", "body.phone", ""},
		{"bad role", map[string]any{"iin": "444444444444", "full_name": "X", "role": "root", "password": "p"}, "enum", "body.role", "Input should be 'student', 'teacher' or 'admin'"},
		{"no password", map[string]any{"iin": "444444444444", "full_name": "X"}, "missing", "body.password", "Field required"},
		{"no body", nil, "missing", "body", "Field required"},
		{"not an object", []int{1}, "model_attributes_type", "body", ""},
	}
	for _, c := range issues {
		t.Run(c.name, func(t *testing.T) {
			is := env.Do(t, "POST", "/admin/users/", admin, c.body).HasIssue(t, c.typ, c.loc)
			if !strings.HasPrefix(is.Msg, c.msgPrefix) {
				t.Fatalf("msg %q", is.Msg)
			}
		})
	}
	if n := env.Count(t, `SELECT count(*) FROM users`); n != 5 {
		t.Fatalf("%d users, want 5", n)
	}
}

// TestCreateUserRace: concurrent creates of one IIN give one 200 and 400s
// with the contract's text, never a 500.
func TestCreateUserRace(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	for _, c := range []struct {
		name   string
		body   func(i int) map[string]any
		detail string
	}{
		{"iin", func(i int) map[string]any {
			return map[string]any{"iin": "555555555555", "full_name": "Гонка", "password": "p"}
		}, "Пользователь с таким ИИН уже существует"},
		{"phone", func(i int) map[string]any {
			return map[string]any{"iin": "66666666666" + string(rune('0'+i)), "full_name": "Гонка", "phone": "+7999", "password": "p"}
		}, "Номер телефона уже используется"},
	} {
		const n = 8
		codes := make([]*apitest.Response, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { codes[i], errs[i] = env.Try("POST", "/admin/users/", admin, c.body(i)) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		ok := 0
		for _, res := range codes {
			if res.Code == http.StatusOK {
				ok++
				continue
			}
			res.Error(t, 400, c.detail)
		}
		if ok != 1 {
			t.Fatalf("%s: %d successes, want 1", c.name, ok)
		}
	}
}

// Twenty concurrent creates are all served: each waits for a bcrypt slot
// well within LOGIN_MAX_WAIT instead of meeting a fixed-length queue (the
// port once answered half of them 503).
func TestCreateUsersConcurrently(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{BcryptSlots: 1})
	admin := env.User(t, auth.Admin)
	const n = 20
	res := make([]*apitest.Response, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res[i], errs[i] = env.Try("POST", "/admin/users/", admin,
				map[string]any{"iin": fmt.Sprintf("5000000000%02d", i), "full_name": "Параллельно", "password": "p"})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		r.Status(t, 200)
	}
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin, apitest.WithName("Админ"))
	s := env.User(t, auth.Student, apitest.WithName("Студент"))
	env.Exec(t, `UPDATE users SET phone = '+7701', photo = 'static/photos/x.png' WHERE id = $1`, s.ID)
	for _, path := range []string{"/admin/users/", "/admin/users"} {
		res := env.Do(t, "GET", path, admin, nil)
		res.Status(t, 200)
		want := []any{
			map[string]any{"id": float64(admin.ID), "iin": admin.IIN, "full_name": "Админ", "phone": nil, "role": "admin", "photo": nil},
			map[string]any{"id": float64(s.ID), "iin": s.IIN, "full_name": "Студент", "phone": "+7701", "role": "student", "photo": "static/photos/x.png"},
		}
		if got := res.List(t); !equalJSON(got, want) {
			t.Fatalf("got %v", got)
		}
	}
}

// TestDeleteUser deletes a user with every kind of dependent row and file.
func TestDeleteUser(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	victim := env.User(t, auth.Teacher)
	bystander := env.User(t, auth.Student)
	d := seedTree(t, env, victim.ID)
	env.Exec(t, `UPDATE users SET photo = 'static/photos/v.png' WHERE id = $1`, victim.ID)
	writeFile(t, env, "photos/v.png")
	sub := env.ID(t, `INSERT INTO lesson_submissions (lesson_id, user_id) VALUES ($1, $2) RETURNING id`, d.Lesson, victim.ID)
	env.Exec(t, `INSERT INTO submission_files (submission_id, file_path) VALUES ($1, 'static/homework/lesson_1/v.pdf')`, sub)
	writeFile(t, env, "homework/lesson_1/v.pdf")
	env.Exec(t, `INSERT INTO results (user_id, lesson_id, test_id, score) VALUES ($1, $2, $3, 50)`, victim.ID, d.Lesson, d.Test)
	env.Exec(t, `INSERT INTO results (user_id, lesson_id, test_id, score) VALUES ($1, $2, $3, 70)`, bystander.ID, d.Lesson, d.Test)
	env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2), ($3, $2)`, victim.ID, d.Group, bystander.ID)
	env.Exec(t, `INSERT INTO teacher_module (module_id, teacher_id) VALUES ($1, $2)`, d.Module, victim.ID)
	env.Exec(t, `INSERT INTO login_attempts (iin, failed_count) VALUES ($1, 3)`, victim.IIN)

	res := env.Do(t, "DELETE", "/admin/users/"+victim.IIN, admin, nil)
	res.Status(t, 200)
	if got := res.Map(t); !equalJSON(got, map[string]any{"detail": "Пользователь " + victim.IIN + " и связанные связи удалены"}) {
		t.Fatalf("got %v", got)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM users WHERE id = $1`:                               0,
		`SELECT count(*) FROM lesson_submissions WHERE user_id = $1`:             0,
		`SELECT count(*) FROM results WHERE user_id = $1`:                        0,
		`SELECT count(*) FROM user_group WHERE user_id = $1`:                     0,
		`SELECT count(*) FROM teacher_module WHERE teacher_id = $1`:              0,
		`SELECT count(*) FROM subjects WHERE teacher_id = $1`:                    0,
		`SELECT count(*) FROM submission_files WHERE $1::int > 0`:                0,
		`SELECT count(*) FROM subjects WHERE teacher_id IS NULL AND $1::int > 0`: 1,
	} {
		if n := env.Count(t, q, victim.ID); n != want {
			t.Fatalf("%s: %d, want %d", q, n, want)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM login_attempts`); n != 0 {
		t.Fatal("throttle row kept")
	}
	if n := env.Count(t, `SELECT count(*) FROM results WHERE user_id = $1`, bystander.ID); n != 1 {
		t.Fatal("other user's result deleted")
	}
	if fileExists(env, "photos/v.png") || fileExists(env, "homework/lesson_1/v.pdf") {
		t.Fatal("files left on disk")
	}
	env.Do(t, "DELETE", "/admin/users/"+victim.IIN, admin, nil).Error(t, 404, "Пользователь не найден")
	other := env.User(t, auth.Admin)
	env.Do(t, "DELETE", "/admin/users/"+other.IIN, admin, nil).Error(t, 403, "Нельзя удалить администратора")
	env.Do(t, "DELETE", "/admin/users/"+admin.IIN+"/", admin, nil).Error(t, 403, "Нельзя удалить администратора")
}

func TestResetPassword(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	u := env.User(t, auth.Student)
	env.Exec(t, `INSERT INTO login_attempts (iin, failed_count, locked_until) VALUES ($1, 5, now() + interval '5 minutes')`, u.IIN)
	env.Do(t, "POST", "/auth/login", apitest.User{}, map[string]any{"iin": u.IIN, "password": u.Password}).Status(t, 403)

	res := env.Do(t, "PATCH", "/admin/users/reset_password", admin, map[string]any{"user_iin": u.IIN, "new_password": "brand-new"})
	res.Status(t, 200)
	if string(res.Body) != "null" {
		t.Fatalf("body %s, want null", res.Body)
	}
	if n := env.Count(t, `SELECT count(*) FROM login_attempts WHERE iin = $1`, u.IIN); n != 0 {
		t.Fatal("throttle not cleared")
	}
	env.Do(t, "POST", "/auth/login", apitest.User{}, map[string]any{"iin": u.IIN, "password": "brand-new"}).Status(t, 200)

	env.Do(t, "PATCH", "/admin/users/reset_password", admin, map[string]any{"user_iin": "000000000001", "new_password": "x"}).
		Error(t, 404, "Пользователь не найден")
	env.Do(t, "PATCH", "/admin/users/reset_password", admin, map[string]any{"user_iin": "12", "new_password": "x"}).
		HasIssue(t, "string_pattern_mismatch", "body.user_iin")
	env.Do(t, "PATCH", "/admin/users/reset_password", admin, map[string]any{"user_iin": u.IIN}).
		HasIssue(t, "missing", "body.new_password")
}

// TestDeleteUserPhotoOutsidePhotos: the §0.8 cascade removes the user's
// photo only when it lies under photos/; a stored string climbing out with
// ".." names another file, which stays.
func TestDeleteUserPhotoOutsidePhotos(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	victim := env.User(t, auth.Student)
	writeFile(t, env, "lesson_docs/doc.pdf")
	env.Exec(t, `UPDATE users SET photo = 'static/photos/../lesson_docs/doc.pdf' WHERE id = $1`, victim.ID)
	env.Do(t, "DELETE", "/admin/users/"+victim.IIN, admin, nil).Status(t, 200)
	if !fileExists(env, "lesson_docs/doc.pdf") {
		t.Fatal("a file outside photos/ was removed as the user's photo")
	}
}

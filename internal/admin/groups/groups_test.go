package groups_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"platform/internal/apitest"
	"platform/internal/auth"
)

func TestGroups(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	a := env.User(t, auth.Student, apitest.WithName("А"))
	b := env.User(t, auth.Student, apitest.WithName("Б"))

	res := env.Do(t, "POST", "/admin/groups/", admin, map[string]any{"name": "ИС-21", "description": "Первая"})
	res.Status(t, 200)
	g := res.Map(t)
	gid := int32(g["id"].(float64))
	if !equalJSON(g, map[string]any{"id": float64(gid), "name": "ИС-21", "description": "Первая"}) {
		t.Fatalf("got %v", g)
	}
	res = env.Do(t, "POST", "/admin/groups", admin, map[string]any{"name": "ИС-22"})
	res.Status(t, 200)
	g2 := res.Map(t)
	if g2["description"] != nil {
		t.Fatalf("got %v", g2)
	}
	env.Do(t, "POST", "/admin/groups/", admin, map[string]any{"name": "ИС-21"}).Error(t, 400, "Группа с таким названием уже существует")
	env.Do(t, "POST", "/admin/groups/", admin, map[string]any{"name": strings.Repeat("я", 101)}).HasIssue(t, "string_too_long", "body.name")
	env.Do(t, "POST", "/admin/groups/", admin, map[string]any{}).HasIssue(t, "missing", "body.name")

	res = env.Do(t, "GET", "/admin/groups/", admin, nil)
	res.Status(t, 200)
	if got := res.List(t); !equalJSON(got, []any{g, g2}) {
		t.Fatalf("list %v", got)
	}
	path := "/admin/groups/" + itoa(gid)
	res = env.Do(t, "GET", path, admin, nil)
	res.Status(t, 200)
	if !equalJSON(res.Map(t), g) {
		t.Fatalf("get %s", res.Body)
	}

	// Members: the array form, then the object form; unknown ids and repeats ignored.
	res = env.Do(t, "POST", path+"/users", admin, []any{a.ID, "99999", a.ID})
	res.Status(t, 200)
	if !equalJSON(res.Map(t), g) {
		t.Fatalf("add %s", res.Body)
	}
	env.Do(t, "POST", path+"/users/", admin, map[string]any{"user_ids": []any{b.ID, 3.0}}).Status(t, 200)
	res = env.Do(t, "GET", path+"/users", admin, nil)
	res.Status(t, 200)
	members := res.List(t)
	if len(members) != 2 || members[0].(map[string]any)["id"] != float64(a.ID) ||
		!equalJSON(members[1], map[string]any{"id": float64(b.ID), "iin": b.IIN, "full_name": "Б", "phone": nil, "role": "student", "photo": nil}) {
		t.Fatalf("members %s", res.Body)
	}
	env.Do(t, "POST", path+"/users", admin, []any{"x", 1.5}).HasIssue(t, "int_parsing", "body.0")
	env.Do(t, "POST", path+"/users", admin, []any{1.5}).HasIssue(t, "int_from_float", "body.0")
	env.Do(t, "POST", path+"/users", admin, map[string]any{"ids": []int{1}}).HasIssue(t, "missing", "body.user_ids")
	env.Do(t, "POST", path+"/users", admin, "5").HasIssue(t, "list_type", "body")
	env.Do(t, "POST", path+"/users", admin, nil).HasIssue(t, "missing", "body")

	res = env.Do(t, "DELETE", path+"/users/"+itoa(a.ID), admin, nil)
	res.Status(t, 200)
	if !equalJSON(res.Map(t), g) {
		t.Fatalf("remove %s", res.Body)
	}
	env.Do(t, "DELETE", path+"/users/"+itoa(a.ID), admin, nil).Status(t, 200) // no-op
	if n := env.Count(t, `SELECT count(*) FROM user_group WHERE group_id = $1`, gid); n != 1 {
		t.Fatalf("%d members", n)
	}

	for _, p := range []struct{ method, path string }{
		{"GET", "/admin/groups/999"}, {"GET", "/admin/groups/99999999999"}, {"POST", "/admin/groups/999/users"},
		{"GET", "/admin/groups/999/users"}, {"DELETE", "/admin/groups/999/users/1"},
		{"DELETE", "/admin/groups/999"}, {"DELETE", "/admin/groups/999/with-users"},
	} {
		var body any
		if p.method == "POST" {
			body = []int{1}
		}
		env.Do(t, p.method, p.path, admin, body).Error(t, 404, "Группа не найдена")
	}
	env.Do(t, "GET", "/admin/groups/abc", admin, nil).HasIssue(t, "int_parsing", "path.group_id")
	env.Do(t, "DELETE", "/admin/groups/1/users/x", admin, nil).HasIssue(t, "int_parsing", "path.user_id")
}

func TestDeleteGroup(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	member := env.User(t, auth.Student)
	d := seedTree(t, env, 0)
	env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2), ($3, $2)`, member.ID, d.Group, admin.ID)
	env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, d.Module, d.Group)
	env.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, d.Subject, d.Group)
	var name string
	env.Pool.QueryRow(t.Context(), `SELECT name FROM groups WHERE id = $1`, d.Group).Scan(&name)

	res := env.Do(t, "DELETE", "/admin/groups/"+itoa(d.Group), admin, nil)
	res.Status(t, 200)
	if !equalJSON(res.Map(t), map[string]any{"detail": "Группа '" + name + "' удалена. Пользователи остались в системе."}) {
		t.Fatalf("got %s", res.Body)
	}
	for _, q := range []string{`SELECT count(*) FROM groups`, `SELECT count(*) FROM user_group`,
		`SELECT count(*) FROM module_group`, `SELECT count(*) FROM subject_group`} {
		if n := env.Count(t, q); n != 0 {
			t.Fatalf("%s: %d", q, n)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM users`); n != 2 {
		t.Fatalf("users deleted: %d left", n)
	}
}

func TestDeleteGroupWithUsers(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	student := env.User(t, auth.Student)
	teacher := env.User(t, auth.Teacher)
	outsider := env.User(t, auth.Student)
	d := seedTree(t, env, teacher.ID)
	other := env.ID(t, `INSERT INTO groups (name) VALUES ('Другая') RETURNING id`)
	env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $4), ($2, $4), ($3, $4), ($1, $5)`,
		student.ID, teacher.ID, admin.ID, d.Group, other)
	env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, d.Module, d.Group)
	sub := env.ID(t, `INSERT INTO lesson_submissions (lesson_id, user_id) VALUES ($1, $2) RETURNING id`, d.Lesson, student.ID)
	env.Exec(t, `INSERT INTO submission_files (submission_id, file_path) VALUES ($1, 'static/homework/lesson_9/s.pdf')`, sub)
	writeFile(t, env, "homework/lesson_9/s.pdf")
	env.Exec(t, `INSERT INTO results (user_id, test_id, score) VALUES ($1, $2, 80)`, student.ID, d.Test)

	res := env.Do(t, "DELETE", "/admin/groups/"+itoa(d.Group)+"/with-users/", admin, nil)
	res.Status(t, 200)
	detail := res.Detail(t)
	if !strings.HasPrefix(detail, "Группа 'Группа ") || !strings.HasSuffix(detail, "' удалена. Удалено пользователей: 2. Админы сохранены.") {
		t.Fatalf("detail %q", detail)
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE id = ANY($1)`, []int32{student.ID, teacher.ID}); n != 0 {
		t.Fatal("members kept")
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE id = ANY($1)`, []int32{admin.ID, outsider.ID}); n != 2 {
		t.Fatal("admin or outsider deleted")
	}
	for _, q := range []string{`SELECT count(*) FROM results`, `SELECT count(*) FROM lesson_submissions`,
		`SELECT count(*) FROM user_group`, `SELECT count(*) FROM module_group`, `SELECT count(*) FROM subjects WHERE teacher_id IS NOT NULL`} {
		if n := env.Count(t, q); n != 0 {
			t.Fatalf("%s: %d", q, n)
		}
	}
	if fileExists(env, "homework/lesson_9/s.pdf") {
		t.Fatal("submission file kept")
	}
}

// Adding a user to a group while that user is being deleted waits for the
// delete and skips the user: never a 500 from the foreign key.
func TestAddMemberDuringUserDelete(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	victim := env.User(t, auth.Student)
	gid := env.ID(t, `INSERT INTO groups (name) VALUES ('Гонка') RETURNING id`)

	ctx := context.Background()
	tx, err := env.Conn(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, victim.ID); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		res *apitest.Response
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := env.Try("POST", fmt.Sprintf("/admin/groups/%d/users", gid), admin, []int32{victim.ID})
		done <- answer{res, err}
	}()
	// The request's backend must be waiting for the deleting transaction's
	// row lock before that transaction commits.
	deadline := time.Now().Add(10 * time.Second)
	for env.Count(t, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO user_group%'`) == 0 {
		select {
		case a := <-done:
			t.Fatalf("the request did not wait for the delete: %v %v", a.res, a.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the request never waited on the deleted row")
		}
		time.Sleep(5 * time.Millisecond) // polling, not synchronising
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	a := <-done
	if a.err != nil {
		t.Fatal(a.err)
	}
	res := a.res
	res.Status(t, 200)
	if n := env.Count(t, `SELECT count(*) FROM user_group WHERE group_id = $1`, gid); n != 0 {
		t.Errorf("%d links to a deleted user", n)
	}
}

package modules_test

import (
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

var apiTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$`)

func TestModulesCRUD(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)

	res := env.Do(t, "POST", "/admin/modules/", admin, map[string]any{"title": "Модуль 1", "course": "1"})
	res.Status(t, 200)
	m := res.Map(t)
	id := int32(m["id"].(float64))
	created, _ := m["created_at"].(string)
	if !apiTime.MatchString(created) || !equalJSON(m, map[string]any{"id": float64(id), "title": "Модуль 1", "course": "1",
		"description": nil, "created_at": created}) {
		t.Fatalf("got %s", res.Body)
	}
	if n := env.Count(t, `SELECT count(*) FROM modules WHERE abs(extract(epoch FROM created_at - (now() AT TIME ZONE 'UTC'))) < 60`); n != 1 {
		t.Fatal("created_at is not UTC now")
	}
	env.Do(t, "POST", "/admin/modules", admin, map[string]any{"title": strings.Repeat("м", 101)}).HasIssue(t, "string_too_long", "body.title")
	env.Do(t, "POST", "/admin/modules", admin, map[string]any{"title": "x", "course": "12345678901"}).HasIssue(t, "string_too_long", "body.course")
	env.Do(t, "POST", "/admin/modules", admin, map[string]any{"course": "1"}).HasIssue(t, "missing", "body.title")

	path := "/admin/modules/" + itoa(id)
	res = env.Do(t, "PUT", path, admin, map[string]any{"description": "Описание"})
	res.Status(t, 200)
	if got := res.Map(t); got["title"] != "Модуль 1" || got["course"] != "1" || got["description"] != "Описание" || got["created_at"] != created {
		t.Fatalf("partial update %s", res.Body)
	}
	res = env.Do(t, "PUT", path, admin, map[string]any{"title": "Новый", "course": nil})
	res.Status(t, 200)
	if got := res.Map(t); got["title"] != "Новый" || got["course"] != nil || got["description"] != "Описание" {
		t.Fatalf("update %s", res.Body)
	}
	env.Do(t, "PUT", path, admin, map[string]any{"title": nil}).HasIssue(t, "string_type", "body.title")
	env.Do(t, "PUT", path, admin, nil).HasIssue(t, "missing", "body")
	env.Do(t, "PUT", "/admin/modules/999", admin, map[string]any{}).Error(t, 404, "Модуль не найден")
	env.Do(t, "PUT", "/admin/modules/x", admin, map[string]any{}).HasIssue(t, "int_parsing", "path.module_id")

	// Subjects.
	res = env.Do(t, "POST", path+"/subjects", admin, map[string]any{"title": "  Математика "})
	res.Status(t, 200)
	s := res.Map(t)
	sid := s["id"].(float64)
	if !equalJSON(s, map[string]any{"id": sid, "title": "Математика", "lessons": []any{}, "module_id": float64(id), "teacher_id": nil}) {
		t.Fatalf("subject %s", res.Body)
	}
	env.Do(t, "POST", path+"/subjects", admin, map[string]any{"title": "МАТЕМАТИКА"}).Error(t, 400, "Данная дисциплина уже существует в этом модуле")
	env.Do(t, "POST", path+"/subjects", admin, map[string]any{"title": "%"}).Status(t, 200)
	env.Do(t, "POST", path+"/subjects", admin, map[string]any{"title": "_"}).Status(t, 200) // % is not a pattern
	env.Do(t, "POST", path+"/subjects", admin, map[string]any{"title": "  "}).HasIssue(t, "string_too_short", "body.title")
	env.Do(t, "POST", "/admin/modules/999/subjects", admin, map[string]any{"title": "X"}).Error(t, 404, "Модуль не найден")

	// Concurrent creates of one title: exactly one succeeds.
	var wg sync.WaitGroup
	codes := make([]int, 8)
	errs := make([]error, len(codes))
	for i := range codes {
		wg.Go(func() {
			var res *apitest.Response
			if res, errs[i] = env.Try("POST", path+"/subjects", admin, map[string]any{"title": "Физика"}); res != nil {
				codes[i] = res.Code
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := env.Count(t, `SELECT count(*) FROM subjects WHERE title = 'Физика'`); n != 1 {
		t.Fatalf("%d subjects created concurrently (%v)", n, codes)
	}

	env.Do(t, "DELETE", "/admin/modules/subjects/999", admin, nil).Error(t, 404, "Предмет не найден")
	res = env.Do(t, "DELETE", "/admin/modules/subjects/"+itoa(int32(sid)), admin, nil)
	res.Status(t, 200)
	if !equalJSON(res.Map(t), map[string]any{"detail": "Предмет удалён"}) {
		t.Fatalf("got %s", res.Body)
	}
	env.Do(t, "DELETE", "/admin/modules/999", admin, nil).Error(t, 404, "Модуль не найден")
}

func TestModuleLists(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	teacher := env.User(t, auth.Teacher, apitest.WithName("Учитель"))
	d := seedTree(t, env, teacher.ID)
	s2 := env.ID(t, `INSERT INTO subjects (module_id, title) VALUES ($1, 'Без учителя') RETURNING id`, d.Module)
	empty := env.ID(t, `INSERT INTO modules (title) VALUES ('Пустой') RETURNING id`)

	lesson := map[string]any{"id": float64(d.Lesson), "title": "Урок", "type": "video", "content_url": "https://v"}
	res := env.Do(t, "GET", "/admin/modules/", admin, nil)
	res.Status(t, 200)
	list := res.List(t)
	if len(list) != 2 {
		t.Fatalf("got %s", res.Body)
	}
	m0 := list[0].(map[string]any)
	wantSubjects := []any{
		map[string]any{"id": float64(d.Subject), "title": "Предмет", "module_id": float64(d.Module), "teacher_id": float64(teacher.ID), "lessons": []any{lesson}},
		map[string]any{"id": float64(s2), "title": "Без учителя", "module_id": float64(d.Module), "teacher_id": nil, "lessons": []any{}},
	}
	if m0["id"] != float64(d.Module) || m0["title"] != "Модуль" || m0["course"] != "1" || m0["description"] != nil ||
		!equalJSON(m0["subjects"], wantSubjects) {
		t.Fatalf("module %v", m0)
	}
	if m1 := list[1].(map[string]any); m1["id"] != float64(empty) || !equalJSON(m1["subjects"], []any{}) || m1["course"] != nil {
		t.Fatalf("empty module %v", m1)
	}

	res = env.Do(t, "GET", "/admin/modules/with-teachers/", admin, nil)
	res.Status(t, 200)
	list = res.List(t)
	subjects := list[0].(map[string]any)["subjects"].([]any)
	wantTeacher := map[string]any{"id": float64(teacher.ID), "iin": teacher.IIN, "full_name": "Учитель", "phone": nil, "role": "teacher", "photo": nil}
	if len(list) != 2 || len(subjects) != 2 || !equalJSON(subjects[0].(map[string]any)["teacher"], wantTeacher) ||
		!equalJSON(subjects[0].(map[string]any)["lessons"], []any{lesson}) || list[0].(map[string]any)["course"] != "1" {
		t.Fatalf("with-teachers %s", res.Body)
	}
	if s := subjects[1].(map[string]any); s["teacher"] != nil || !equalJSON(s["lessons"], []any{}) {
		t.Fatalf("subject without teacher %v", s)
	}
	if _, ok := subjects[1].(map[string]any)["teacher"]; !ok {
		t.Fatal("teacher key missing")
	}
}

func TestGetModule(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	teacher := env.User(t, auth.Teacher)
	linked := env.User(t, auth.Student)
	partial := env.User(t, auth.Student)
	stranger := env.User(t, auth.Student)
	d := seedTree(t, env, 0)
	s2 := env.ID(t, `INSERT INTO subjects (module_id, title) VALUES ($1, 'Второй') RETURNING id`, d.Module)
	env.Exec(t, `INSERT INTO results (user_id, lesson_id, score) VALUES ($1, $2, 90)`, linked.ID, d.Lesson)
	g2 := env.ID(t, `INSERT INTO groups (name) VALUES ('Частичная') RETURNING id`)
	env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2), ($3, $4)`, linked.ID, d.Group, partial.ID, g2)
	env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, d.Module, d.Group)
	env.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, s2, g2)

	path := "/admin/modules/" + itoa(d.Module)
	subjectIDs := func(res *apitest.Response) []float64 {
		var ids []float64
		for _, s := range res.Map(t)["subjects"].([]any) {
			ids = append(ids, s.(map[string]any)["id"].(float64))
		}
		return ids
	}
	for _, u := range []apitest.User{admin, teacher, linked} {
		res := env.Do(t, "GET", path, u, nil)
		res.Status(t, 200)
		if ids := subjectIDs(res); len(ids) != 2 {
			t.Fatalf("%s sees %v", u.Role, ids)
		}
	}
	res := env.Do(t, "GET", path, linked, nil)
	m := res.Map(t)
	lesson := m["subjects"].([]any)[0].(map[string]any)["lessons"].([]any)[0].(map[string]any)
	if m["title"] != "Модуль" || m["course"] != "1" || lesson["result"] != nil || lesson["subject_id"] != float64(d.Subject) || lesson["description"] != nil {
		t.Fatalf("tree %s", res.Body)
	}
	res = env.Do(t, "GET", path+"/", partial, nil)
	res.Status(t, 200)
	if ids := subjectIDs(res); len(ids) != 1 || ids[0] != float64(s2) {
		t.Fatalf("partial student sees %v", ids)
	}
	env.Do(t, "GET", path, stranger, nil).Error(t, 404, "Модуль не найден или доступ запрещён")
	env.Do(t, "GET", "/admin/modules/999", stranger, nil).Error(t, 404, "Модуль не найден")
	env.Do(t, "GET", "/admin/modules/999", admin, nil).Error(t, 404, "Модуль не найден")
	env.Do(t, "GET", "/admin/modules/abc", stranger, nil).HasIssue(t, "int_parsing", "path.module_id")
}

// TestDeleteModule removes a module with everything under it, files included.
func TestDeleteModule(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	teacher := env.User(t, auth.Teacher)
	student := env.User(t, auth.Student)
	d := seedTree(t, env, teacher.ID)
	keep := seedTree(t, env, teacher.ID)
	env.Exec(t, `UPDATE lessons SET content_url = '/static/lesson_docs/doc.pdf' WHERE id = $1`, d.Lesson)
	writeFile(t, env, "lesson_docs/doc.pdf")
	sub := env.ID(t, `INSERT INTO lesson_submissions (lesson_id, user_id) VALUES ($1, $2) RETURNING id`, d.Lesson, student.ID)
	env.Exec(t, `INSERT INTO submission_files (submission_id, file_path) VALUES ($1, $2)`, sub, "static/homework/lesson_"+itoa(d.Lesson)+"/s.pdf")
	writeFile(t, env, "homework/lesson_"+itoa(d.Lesson)+"/s.pdf")
	env.Exec(t, `INSERT INTO results (user_id, lesson_id, test_id, score) VALUES ($1, $2, $3, 100)`, student.ID, d.Lesson, d.Test)
	env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, d.Module, d.Group)
	env.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, d.Subject, d.Group)
	env.Exec(t, `INSERT INTO teacher_module (module_id, teacher_id) VALUES ($1, $2)`, d.Module, teacher.ID)

	res := env.Do(t, "DELETE", "/admin/modules/"+itoa(d.Module), admin, nil)
	res.Status(t, 200)
	if !equalJSON(res.Map(t), map[string]any{"detail": "Модуль удалён"}) {
		t.Fatalf("got %s", res.Body)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM modules`: 1, `SELECT count(*) FROM subjects`: 1, `SELECT count(*) FROM lessons`: 1,
		`SELECT count(*) FROM tests`: 1, `SELECT count(*) FROM questions`: 1, `SELECT count(*) FROM options`: 1,
		`SELECT count(*) FROM results`: 0, `SELECT count(*) FROM lesson_submissions`: 0, `SELECT count(*) FROM submission_files`: 0,
		`SELECT count(*) FROM module_group`: 0, `SELECT count(*) FROM subject_group`: 0, `SELECT count(*) FROM teacher_module`: 0,
		`SELECT count(*) FROM groups`: 2, `SELECT count(*) FROM users`: 3,
	} {
		if n := env.Count(t, q); n != want {
			t.Fatalf("%s: %d, want %d", q, n, want)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM modules WHERE id = $1`, keep.Module); n != 1 {
		t.Fatal("other module deleted")
	}
	if fileExists(env, "lesson_docs/doc.pdf") || fileExists(env, "homework/lesson_"+itoa(d.Lesson)) {
		t.Fatal("files left on disk")
	}
}

// TestDeleteSubject removes a subject with its lessons, tests, results and
// files; a test of another subject linked to its lesson is kept, unlinked.
func TestDeleteSubject(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	student := env.User(t, auth.Student)
	d := seedTree(t, env, 0)
	other := env.ID(t, `INSERT INTO subjects (module_id, title) VALUES ($1, 'Другой') RETURNING id`, d.Module)
	foreign := env.ID(t, `INSERT INTO tests (title, subject_id) VALUES ('Чужой', $1) RETURNING id`, other)
	env.Exec(t, `UPDATE tests SET lesson_id = NULL WHERE id = $1`, d.Test)
	env.Exec(t, `UPDATE tests SET lesson_id = $1 WHERE id = $2`, d.Lesson, foreign)
	sub := env.ID(t, `INSERT INTO lesson_submissions (lesson_id, user_id) VALUES ($1, $2) RETURNING id`, d.Lesson, student.ID)
	env.Exec(t, `INSERT INTO submission_files (submission_id, file_path) VALUES ($1, 'static/homework/x/s.pdf')`, sub)
	writeFile(t, env, "homework/x/s.pdf")
	env.Exec(t, `INSERT INTO results (user_id, test_id, score) VALUES ($1, $2, 10)`, student.ID, d.Test)
	env.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, d.Subject, d.Group)

	env.Do(t, "DELETE", "/admin/modules/subjects/"+itoa(d.Subject), admin, nil).Status(t, 200)
	for q, want := range map[string]int{
		`SELECT count(*) FROM subjects`: 1, `SELECT count(*) FROM lessons`: 0, `SELECT count(*) FROM tests`: 1,
		`SELECT count(*) FROM tests WHERE lesson_id IS NULL`: 1, `SELECT count(*) FROM results`: 0,
		`SELECT count(*) FROM lesson_submissions`: 0, `SELECT count(*) FROM subject_group`: 0, `SELECT count(*) FROM modules`: 1,
	} {
		if n := env.Count(t, q); n != want {
			t.Fatalf("%s: %d, want %d", q, n, want)
		}
	}
	if fileExists(env, "homework/x/s.pdf") {
		t.Fatal("submission file kept")
	}
}

// TestCreateSubjectDuplicateCyrillic: the duplicate rule folds case whatever
// the database's LC_CTYPE; with a "C" collation (an adopted database may have
// one) PostgreSQL's lower() leaves Cyrillic letters alone.
func TestCreateSubjectDuplicateCyrillic(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	env.Exec(t, `ALTER TABLE subjects ALTER COLUMN title TYPE varchar(100) COLLATE "C"`)
	module := env.ID(t, `INSERT INTO modules (title) VALUES ('М') RETURNING id`)
	path := "/admin/modules/" + itoa(module) + "/subjects"
	env.Do(t, "POST", path, admin, map[string]any{"title": "МАТЕМАТИКА"}).Status(t, 200)
	env.Do(t, "POST", path, admin, map[string]any{"title": " математика "}).Error(t, 400, "Данная дисциплина уже существует в этом модуле")
	env.Do(t, "POST", path, admin, map[string]any{"title": "Математика"}).Error(t, 400, "Данная дисциплина уже существует в этом модуле")
	if n := env.Count(t, `SELECT count(*) FROM subjects`); n != 1 {
		t.Fatalf("%d subjects", n)
	}
}

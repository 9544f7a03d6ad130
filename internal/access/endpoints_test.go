package access_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

func TestAccessOverview(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, w.m1, w.g4)
	w.env.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, w.s2, w.g3)
	want := fmt.Sprintf(`{"modules": [
		{"module_id": %[1]d, "module_title": "Модуль 1",
		 "groups": [{"id": %[5]d, "name": "ИС-21"}, {"id": %[6]d, "name": "ИС-24"}],
		 "subjects": [
			{"subject_id": %[7]d, "title": "Математика", "teacher": {"id": %[11]d, "full_name": "Петров Пётр"},
			 "groups": [{"id": %[13]d, "name": "ИС-22"}]},
			{"subject_id": %[8]d, "title": "Физика", "teacher": null, "groups": []}]},
		{"module_id": %[2]d, "module_title": "Модуль 2", "groups": [],
		 "subjects": [{"subject_id": %[9]d, "title": "Химия", "teacher": {"id": %[12]d, "full_name": %[15]q},
			"groups": [{"id": %[14]d, "name": "ИС-23"}]}]},
		{"module_id": %[3]d, "module_title": "Модуль 3", "groups": [], "subjects": []},
		{"module_id": %[4]d, "module_title": "Модуль 4", "groups": [{"id": %[16]d, "name": "Преподаватели"}],
		 "subjects": [{"subject_id": %[10]d, "title": "История", "teacher": null, "groups": []}]}]}`,
		w.m1, w.m2, w.m3, w.m4, w.g1, w.g4, w.s1, w.s1b, w.s2, w.s4, w.teacher.ID, w.other.ID,
		w.g2, w.g3, w.other.FullName, w.gTeach)
	jsonEq(t, w.env.Do(t, "GET", "/access/access-overview", w.admin, nil), want)
}

func TestAccessOverviewEmpty(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	jsonEq(t, env.Do(t, "GET", "/access/access-overview", env.User(t, auth.Admin), nil), `{"modules": []}`)
}

func TestGroupToModule(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	body := map[string]any{"group_id": w.g3, "module_id": w.m1}
	// Linking twice is not an error and leaves one row.
	for range 2 {
		jsonEq(t, w.env.Do(t, "POST", "/access/admin/group-to-module", w.admin, body), w.m1JSON())
	}
	if n := w.env.Count(t, `SELECT count(*) FROM module_group WHERE module_id = $1 AND group_id = $2`, w.m1, w.g3); n != 1 {
		t.Fatalf("module_group rows: %d", n)
	}
	// The link grants access: studentNone (in g3) now reads m1.
	w.env.Do(t, "GET", fmt.Sprintf("/access/my-modules/%d", w.m1), w.studentNone, nil).Status(t, 200)
	// Lax integers as Pydantic: "3" and 3.0 are accepted.
	w.env.Do(t, "POST", "/access/admin/group-to-module", w.admin,
		fmt.Sprintf(`{"group_id": "%d", "module_id": %d.0}`, w.g4, w.m2)).Status(t, 200)

	for _, tc := range []struct {
		name string
		body any
	}{
		{"missing group", map[string]any{"group_id": 999999, "module_id": w.m1}},
		{"missing module", map[string]any{"group_id": w.g1, "module_id": 999999}},
		{"both missing", map[string]any{"group_id": 999999, "module_id": 999998}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.env.Do(t, "POST", "/access/admin/group-to-module", w.admin, tc.body).Error(t, 404, "Группа или Модуль не найдены")
		})
	}
	t.Run("422", func(t *testing.T) {
		res := w.env.Do(t, "POST", "/access/admin/group-to-module", w.admin, map[string]any{"group_id": "x"})
		res.HasIssue(t, "int_parsing", "body.group_id")
		res.HasIssue(t, "missing", "body.module_id")
		w.env.Do(t, "POST", "/access/admin/group-to-module", w.admin, nil).HasIssue(t, "missing", "body")
		w.env.Do(t, "POST", "/access/admin/group-to-module", w.admin, `[1]`).HasIssue(t, "model_attributes_type", "body")
		w.env.Do(t, "POST", "/access/admin/group-to-module", w.admin, map[string]any{"group_id": 1.5, "module_id": 1}).
			HasIssue(t, "int_from_float", "body.group_id")
	})
}

func TestTeacherToSubject(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	student := w.studentMod
	path := "/access/admin/teacher-to-subject"
	body := func(iin string, subject int32) map[string]any {
		return map[string]any{"teacher_iin": iin, "module_id": 0, "subject_id": subject}
	}
	// Replaces the previous teacher (none for s1b; then other replaces it).
	jsonEq(t, w.env.Do(t, "POST", path, w.admin, body(w.teacher.IIN, w.s1b)),
		subjectJSON(w.s1b, "Физика", w.m1, &w.teacher.ID, lessonJSON(w.l1b, w.s1b)))
	jsonEq(t, w.env.Do(t, "POST", path, w.admin, body(w.other.IIN, w.s1b)),
		subjectJSON(w.s1b, "Физика", w.m1, &w.other.ID, lessonJSON(w.l1b, w.s1b)))
	if n := w.env.Count(t, `SELECT count(*) FROM teacher_module WHERE teacher_id = $1`, w.other.ID); n != 0 {
		t.Fatalf("teacher_module written: %d rows", n)
	}

	for _, tc := range []struct {
		name   string
		body   any
		status int
		detail string
	}{
		{"missing subject (checked first)", body("000000000000", 999999), 404, "Предмет не найден"},
		{"missing teacher", body("000000000000", w.s1), 404, "Преподаватель не найден"},
		{"student is not a teacher", body(student.IIN, w.s1), 400, "Пользователь не является преподавателем"},
		{"admin is not a teacher", body(w.admin.IIN, w.s1), 400, "Пользователь не является преподавателем"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.env.Do(t, "POST", path, w.admin, tc.body).Error(t, tc.status, tc.detail)
		})
	}
	t.Run("422", func(t *testing.T) {
		res := w.env.Do(t, "POST", path, w.admin, map[string]any{"teacher_iin": "123", "subject_id": w.s1})
		is := res.HasIssue(t, "string_pattern_mismatch", "body.teacher_iin")
		if is.Input != "123" || is.Ctx["pattern"] != `^\d{12}$` {
			t.Fatalf("issue %+v", is)
		}
		res.HasIssue(t, "missing", "body.module_id")
		w.env.Do(t, "POST", path, w.admin, map[string]any{"teacher_iin": 1, "module_id": 1, "subject_id": 1}).
			HasIssue(t, "string_type", "body.teacher_iin")
	})
}

func TestModuleGroups(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.env.Exec(t, `UPDATE groups SET description = 'вечерняя' WHERE id = $1`, w.g4)
	w.env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, w.m1, w.g4)
	jsonEq(t, w.env.Do(t, "GET", fmt.Sprintf("/access/module/%d/groups", w.m1), w.admin, nil), fmt.Sprintf(`[
		{"id": %d, "title": "ИС-21", "name": "ИС-21", "description": null},
		{"id": %d, "title": "ИС-24", "name": "ИС-24", "description": "вечерняя"}]`, w.g1, w.g4))
	jsonEq(t, w.env.Do(t, "GET", fmt.Sprintf("/access/module/%d/groups", w.m2), w.admin, nil), `[]`)
	w.env.Do(t, "GET", "/access/module/999999/groups", w.admin, nil).Error(t, 404, "Модуль не найден")
	w.env.Do(t, "GET", "/access/module/abc/groups", w.admin, nil).HasIssue(t, "int_parsing", "path.module_id")
}

func TestModuleNotFound(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, tc := range []struct {
		path   string
		as     apitest.User
		detail string
	}{
		{"/access/admin-modules/999999", w.admin, "Модуль не найден"},
		{"/access/admin-modules/99999999999", w.admin, "Модуль не найден"}, // beyond int32: no such id
		{"/access/my-modules/999999", w.admin, "Модуль не найден или доступ запрещён"},
		{"/access/my-modules/999999", w.studentMod, "Модуль не найден или доступ запрещён"},
		{"/access/teacher-modules/999999", w.admin, "Модуль не найден или доступ запрещён"},
		{"/access/teacher-modules/999999", w.teacher, "Модуль не найден или доступ запрещён"},
		{"/access/subjects/999999/lessons", w.studentNone, "Предмет не найден"},
		{"/access/lessons/999999", w.studentNone, "Урок не найден"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w.env.Do(t, "GET", tc.path, tc.as, nil).Error(t, 404, tc.detail)
		})
	}
	for _, tc := range []struct{ path, loc string }{
		{"/access/admin-modules/x", "path.module_id"},
		{"/access/my-modules/1.5", "path.module_id"},
		{"/access/teacher-modules/x", "path.module_id"},
		{"/access/subjects/x/lessons", "path.subject_id"},
		{"/access/lessons/x", "path.lesson_id"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w.env.Do(t, "GET", tc.path, w.admin, nil).HasIssue(t, "int_parsing", tc.loc)
		})
	}
	// Trailing slash answers the same (§0.3).
	jsonEq(t, w.env.Do(t, "GET", fmt.Sprintf("/access/admin-modules/%d/", w.m3), w.admin, nil), w.m3JSON())
}

func TestMyModuleResults(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := w.studentMod
	w.env.Exec(t, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, 50, '2025-06-05 10:00:00Z')`, u.ID, w.l1)
	latest := w.env.ID(t, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, 66.67, '2025-06-05 11:00:00.123456Z') RETURNING id`, u.ID, w.l1)
	w.env.Exec(t, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, 10, '2025-06-05 12:00:00Z')`, w.studentSubj.ID, w.l1b)
	l1 := fmt.Sprintf(`{"id": %d, "title": "Введение", "description": null, "type": "video",
		"content_url": "https://v", "subject_id": %d, "created_at": "2025-06-04T08:30:00Z",
		"result": {"id": %d, "user_id": %d, "lesson_id": %d, "test_id": null, "score": 66.67,
		"submitted_at": "2025-06-05T11:00:00.123456Z"}, "due_at": null, "cutoff_at": null}`, w.l1, w.s1, latest, u.ID, w.l1)
	want := moduleJSON(w.m1, "Модуль 1",
		subjectJSON(w.s1, "Математика", w.m1, &w.teacher.ID, l1),
		subjectJSON(w.s1b, "Физика", w.m1, nil, lessonJSON(w.l1b, w.s1b)))
	jsonEq(t, w.env.Do(t, "GET", fmt.Sprintf("/access/my-modules/%d", w.m1), u, nil), want)
	// The list shows no results.
	jsonEq(t, w.env.Do(t, "GET", "/access/my-modules", u, nil), "["+w.m1JSON()+"]")
}

func TestLessonByID(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := w.studentSubj
	res := w.env.ID(t, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, 100, '2025-06-05 10:00:00Z') RETURNING id`, u.ID, w.l1)
	l2 := w.env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url, description) VALUES ($1, 'Тест', 'Тест', '/static/lesson_docs/a.pdf', 'описание') RETURNING id`, w.s1)
	want := fmt.Sprintf(`{"id": %[1]d, "title": "Введение", "type": "video", "description": null,
		"content_url": "https://v", "subject_id": %[2]d, "created_at": "2025-06-04T08:30:00Z", "due_at": null, "cutoff_at": null,
		"result": {"id": %[3]d, "user_id": %[4]d, "lesson_id": %[1]d, "test_id": null, "score": 100,
			"submitted_at": "2025-06-05T10:00:00Z"},
		"subject": {"id": %[2]d, "title": "Математика", "module_id": %[5]d, "teacher_id": %[6]d, "lessons": [
			%[7]s,
			{"id": %[8]d, "title": "Тест", "type": "Тест", "description": "описание", "content_url": "/static/lesson_docs/a.pdf",
			 "subject_id": %[2]d, "created_at": null, "result": null, "due_at": null, "cutoff_at": null}]}}`,
		w.l1, w.s1, res, u.ID, w.m1, w.teacher.ID, lessonJSON(w.l1, w.s1), l2)
	jsonEq(t, w.env.Do(t, "GET", fmt.Sprintf("/access/lessons/%d", w.l1), u, nil), want)
	// Another caller sees no result of someone else.
	got := w.env.Do(t, "GET", fmt.Sprintf("/access/lessons/%d", w.l1), w.teacher, nil).Map(t)
	if got["result"] != nil {
		t.Fatalf("teacher sees result %v", got["result"])
	}
}

func TestSubjectGroups(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	path := fmt.Sprintf("/access/subjects/%d/groups/%d", w.s1b, w.g3)
	linked := fmt.Sprintf(`{"id": %d, "title": "Физика", "module_id": %d, "teacher_id": null,
		"groups": [{"id": %d, "name": "ИС-23", "description": null}]}`, w.s1b, w.m1, w.g3)
	unlinked := fmt.Sprintf(`{"id": %d, "title": "Физика", "module_id": %d, "teacher_id": null, "groups": []}`, w.s1b, w.m1)

	w.env.Do(t, "GET", fmt.Sprintf("/access/subjects/%d/lessons", w.s1b), w.studentNone, nil).Error(t, 403, "Нет доступа к предмету")
	for range 2 { // idempotent
		jsonEq(t, w.env.Do(t, "POST", path, w.admin, nil), linked)
	}
	if n := w.env.Count(t, `SELECT count(*) FROM subject_group WHERE subject_id = $1`, w.s1b); n != 1 {
		t.Fatalf("subject_group rows: %d", n)
	}
	// The link grants the subject only: studentNone now reads s1b, not s1.
	w.env.Do(t, "GET", fmt.Sprintf("/access/subjects/%d/lessons", w.s1b), w.studentNone, nil).Status(t, 200)
	w.env.Do(t, "GET", fmt.Sprintf("/access/subjects/%d/lessons", w.s1), w.studentNone, nil).Error(t, 403, "Нет доступа к предмету")

	w.env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, w.m1, w.g3)
	for range 2 { // removing a missing link is no error
		jsonEq(t, w.env.Do(t, "DELETE", path, w.admin, nil), unlinked)
	}
	// Module-level links are untouched.
	if n := w.env.Count(t, `SELECT count(*) FROM module_group WHERE module_id = $1 AND group_id = $2`, w.m1, w.g3); n != 1 {
		t.Fatal("module link removed")
	}

	for _, method := range []string{"POST", "DELETE"} {
		for _, p := range []string{
			fmt.Sprintf("/access/subjects/999999/groups/%d", w.g3),
			fmt.Sprintf("/access/subjects/%d/groups/999999", w.s1),
			"/access/subjects/99999999999/groups/1",
		} {
			w.env.Do(t, method, p, w.admin, nil).Error(t, 404, "Группа или предмет не найдены")
		}
		res := w.env.Do(t, method, "/access/subjects/x/groups/y", w.admin, nil)
		res.HasIssue(t, "int_parsing", "path.subject_id")
		res.HasIssue(t, "int_parsing", "path.group_id")
	}
}

func TestRoutingBeforeAuth(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	// Unknown paths and wrong methods answer before authentication, as FastAPI.
	env.Do(t, "GET", "/access/nope", apitest.User{}, nil).Error(t, 404, "Not Found")
	res := env.Do(t, "PUT", "/access/my-modules", apitest.User{}, nil)
	res.Error(t, 405, "Method Not Allowed")
	// A bad token on a known route is a 401 with the token text.
	env.Do(t, "GET", "/access/my-modules", apitest.User{Token: "x"}, nil).Error(t, 401, "Вы не авторизованы")
}

// Issue 20: the overview takes ?limit/?offset, cut in SQL, and without them
// still lists every module.
func TestOverviewPaged(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	env.Exec(t, `INSERT INTO modules (title) SELECT 'M' || i FROM generate_series(1, 130) i`)
	env.Exec(t, `INSERT INTO subjects (module_id, title) SELECT id, 'S' FROM modules`)
	first := env.ID(t, `SELECT min(id) FROM modules`)
	var page struct {
		Modules []struct {
			ModuleID int32 `json:"module_id"`
			Subjects []any `json:"subjects"`
		} `json:"modules"`
	}
	env.Do(t, "GET", "/access/access-overview?limit=3&offset=120", admin, nil).Status(t, 200).Decode(t, &page)
	if len(page.Modules) != 3 || page.Modules[0].ModuleID != first+120 || len(page.Modules[2].Subjects) != 1 {
		t.Fatalf("page %+v", page)
	}
	env.Do(t, "GET", "/access/access-overview", admin, nil).Status(t, 200).Decode(t, &page)
	if len(page.Modules) != 130 || page.Modules[129].ModuleID != first+129 {
		t.Fatalf("full overview of %d", len(page.Modules))
	}
	jsonEq(t, env.Do(t, "GET", "/access/access-overview?offset=500", admin, nil), `{"modules": []}`)
	env.Do(t, "GET", "/access/access-overview?limit=0", admin, nil).HasIssue(t, "greater_than_equal", "query.limit")
}

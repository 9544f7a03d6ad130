package access_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// world is the data most tests share:
//
//	m1 "Модуль 1": s1 (taught by teacher; lesson l1), s1b (no teacher; lesson l1b)
//	m2 "Модуль 2": s2 (taught by other; lesson l2)
//	m3 "Модуль 3": no subjects; teacher_module(m3, teacher)
//	m4 "Модуль 4": s4; module_group(m4, gTeach) — teacher is in gTeach
//	g1 → module_group(m1): studentMod      g2 → subject_group(s1): studentSubj
//	g3: studentNone, no links               g4: nobody, no links (for admin mutations)
type world struct {
	env                                  *apitest.Env
	admin, teacher, other                apitest.User
	studentMod, studentSubj, studentNone apitest.User
	m1, m2, m3, m4                       int32
	s1, s1b, s2, s4                      int32
	l1, l1b, l2, l4                      int32
	g1, g2, g3, g4, gTeach               int32
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := apitest.New(t)
	w := &world{env: env}
	w.admin = env.User(t, auth.Admin)
	w.teacher = env.User(t, auth.Teacher, apitest.WithName("Петров Пётр"))
	w.other = env.User(t, auth.Teacher)
	w.studentMod = env.User(t, auth.Student)
	w.studentSubj = env.User(t, auth.Student)
	w.studentNone = env.User(t, auth.Student)

	module := func(title string) int32 {
		return env.ID(t, `INSERT INTO modules (title, course, created_at) VALUES ($1, '1', '2025-06-01 06:00:00') RETURNING id`, title)
	}
	subject := func(title string, module int32, teacher *int32) int32 {
		return env.ID(t, `INSERT INTO subjects (title, module_id, teacher_id) VALUES ($1, $2, $3) RETURNING id`, title, module, teacher)
	}
	lesson := func(subject int32) int32 {
		return env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url, created_at)
			VALUES ($1, 'Введение', 'video', 'https://v', '2025-06-04 08:30:00') RETURNING id`, subject)
	}
	group := func(name string, members ...apitest.User) int32 {
		g := env.ID(t, `INSERT INTO groups (name) VALUES ($1) RETURNING id`, name)
		for _, u := range members {
			env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, u.ID, g)
		}
		return g
	}
	w.m1, w.m2, w.m3, w.m4 = module("Модуль 1"), module("Модуль 2"), module("Модуль 3"), module("Модуль 4")
	w.s1 = subject("Математика", w.m1, &w.teacher.ID)
	w.s1b = subject("Физика", w.m1, nil)
	w.s2 = subject("Химия", w.m2, &w.other.ID)
	w.s4 = subject("История", w.m4, nil)
	w.l1, w.l1b, w.l2, w.l4 = lesson(w.s1), lesson(w.s1b), lesson(w.s2), lesson(w.s4)
	w.g1 = group("ИС-21", w.studentMod)
	w.g2 = group("ИС-22", w.studentSubj)
	w.g3 = group("ИС-23", w.studentNone)
	w.g4 = group("ИС-24")
	w.gTeach = group("Преподаватели", w.teacher)
	env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, w.m1, w.g1)
	env.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, w.s1, w.g2)
	env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, w.m4, w.gTeach)
	env.Exec(t, `INSERT INTO teacher_module (module_id, teacher_id) VALUES ($1, $2)`, w.m3, w.teacher.ID)
	return w
}

// lessonJSON is a LessonResponse of the world's lessons with a null result.
func lessonJSON(id, subject int32) string {
	return fmt.Sprintf(`{"id": %d, "title": "Введение", "description": null, "type": "video",
		"content_url": "https://v", "subject_id": %d, "created_at": "2025-06-04T08:30:00Z", "result": null,
		"due_at": null, "cutoff_at": null}`, id, subject)
}

// subjectJSON is a SubjectResponse; lessons are JSON texts.
func subjectJSON(id int32, title string, module int32, teacher *int32, lessons ...string) string {
	tid := "null"
	if teacher != nil {
		tid = fmt.Sprint(*teacher)
	}
	return fmt.Sprintf(`{"id": %d, "title": %q, "module_id": %d, "teacher_id": %s, "lessons": [%s]}`,
		id, title, module, tid, join(lessons))
}

// moduleJSON is a ModuleResponse of the world's modules; subjects are JSON texts.
func moduleJSON(id int32, title string, subjects ...string) string {
	return fmt.Sprintf(`{"id": %d, "title": %q, "course": "1", "description": null,
		"created_at": "2025-06-01T06:00:00Z", "subjects": [%s]}`, id, title, join(subjects))
}

func join(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ","
		}
		out += p
	}
	return out
}

// The world's trees, as every endpoint returning them must show them.
func (w *world) m1JSON() string {
	return moduleJSON(w.m1, "Модуль 1",
		subjectJSON(w.s1, "Математика", w.m1, &w.teacher.ID, lessonJSON(w.l1, w.s1)),
		subjectJSON(w.s1b, "Физика", w.m1, nil, lessonJSON(w.l1b, w.s1b)))
}

func (w *world) m2JSON() string {
	return moduleJSON(w.m2, "Модуль 2", subjectJSON(w.s2, "Химия", w.m2, &w.other.ID, lessonJSON(w.l2, w.s2)))
}

func (w *world) m3JSON() string { return moduleJSON(w.m3, "Модуль 3") }

func (w *world) m4JSON() string {
	return moduleJSON(w.m4, "Модуль 4", subjectJSON(w.s4, "История", w.m4, nil, lessonJSON(w.l4, w.s4)))
}

// jsonEq fails unless body and want are the same JSON value.
func jsonEq(t *testing.T, res *apitest.Response, want string) {
	t.Helper()
	res.Status(t, 200)
	var got, exp any
	if err := json.Unmarshal(res.Body, &got); err != nil {
		t.Fatalf("decode body %s: %v", res.Body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("decode want %s: %v", want, err)
	}
	if !reflect.DeepEqual(got, exp) {
		g, _ := json.Marshal(got)
		e, _ := json.Marshal(exp)
		t.Fatalf("body\n got %s\nwant %s", g, e)
	}
}

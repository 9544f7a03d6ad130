package grades_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

func TestStudentGrades(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	student, other := env.User(t, auth.Student), env.User(t, auth.Student)
	module := env.ID(t, `INSERT INTO modules (title) VALUES ('Модуль 1') RETURNING id`)
	subject := env.ID(t, `INSERT INTO subjects (module_id, title) VALUES ($1, 'Математика') RETURNING id`, module)
	hwLesson := env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'Введение', 'pdf', '') RETURNING id`, subject)
	testLesson := env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'Итоговый тест', 'Тест', '') RETURNING id`, subject)
	test := env.ID(t, `INSERT INTO tests (title, subject_id, lesson_id) VALUES ('Т', $1, $2) RETURNING id`, subject, testLesson)
	// Issue 24: the homework lesson has a deadline, the graded submission
	// came an hour late; the student has an extension on the test lesson.
	env.Exec(t, `UPDATE lessons SET due_at = '2025-06-05 09:00:00' WHERE id = $1`, hwLesson)
	env.Exec(t, `INSERT INTO lesson_extensions (lesson_id, user_id, due_at, granted_at) VALUES ($1, $2, '2025-06-07 00:00:00', '2025-06-01 00:00:00')`, testLesson, student.ID)
	graded := env.ID(t, `INSERT INTO lesson_submissions (lesson_id, user_id, grade, submitted_at, late_seconds)
		VALUES ($1, $2, 5, '2025-06-05 10:00:00', 3600) RETURNING id`, hwLesson, student.ID)
	ungraded := env.ID(t, `INSERT INTO lesson_submissions (lesson_id, user_id) VALUES ($1, $2) RETURNING id`, hwLesson, student.ID)
	env.Exec(t, `INSERT INTO lesson_submissions (lesson_id, user_id, grade) VALUES (NULL, $1, 3)`, student.ID)
	env.Exec(t, `INSERT INTO lesson_submissions (lesson_id, user_id, grade) VALUES ($1, $2, 2)`, hwLesson, other.ID)
	res1 := env.ID(t, `INSERT INTO results (user_id, lesson_id, test_id, score, submitted_at)
		VALUES ($1, $2, $3, 66.67, '2025-06-06 09:00:00+00') RETURNING id`, student.ID, testLesson, test)
	res2 := env.ID(t, `INSERT INTO results (user_id, lesson_id, test_id, score, submitted_at)
		VALUES ($1, $2, NULL, 100, NULL) RETURNING id`, student.ID, testLesson)
	env.Exec(t, `INSERT INTO results (user_id, lesson_id, test_id, score) VALUES ($1, NULL, NULL, 50)`, student.ID)
	env.Exec(t, `INSERT INTO results (user_id, lesson_id, test_id, score) VALUES ($1, $2, $3, 10)`, other.ID, testLesson, test)

	list := env.Do(t, "GET", "/lessons/student/grades", student, nil).Status(t, 200).List(t)
	want := []map[string]any{
		{"submission_id": graded, "lesson_id": hwLesson, "lesson_title": "Введение", "lesson_type": "pdf",
			"grade": 5.0, "submitted_at": "2025-06-05T10:00:00Z", "source": "submission",
			"due_at": "2025-06-05T09:00:00Z", "late": true},
		{"submission_id": ungraded, "lesson_id": hwLesson, "lesson_title": "Введение", "lesson_type": "pdf",
			"grade": nil, "submitted_at": nil, "source": "submission",
			"due_at": "2025-06-05T09:00:00Z", "late": false},
		{"submission_id": res1, "lesson_id": testLesson, "lesson_title": "Итоговый тест", "lesson_type": "тест",
			"grade": 66.67, "submitted_at": "2025-06-06T09:00:00Z", "source": "test",
			"due_at": "2025-06-07T00:00:00Z", "late": nil},
		{"submission_id": res2, "lesson_id": testLesson, "lesson_title": "Итоговый тест", "lesson_type": "тест",
			"grade": 100.0, "submitted_at": nil, "source": "test",
			"due_at": "2025-06-07T00:00:00Z", "late": nil},
	}
	if len(list) != len(want) {
		t.Fatalf("%d entries, want %d: %v", len(list), len(want), list)
	}
	for i, w := range want {
		got := list[i].(map[string]any)
		w["subject_title"], w["module_title"] = "Математика", "Модуль 1"
		if len(got) != len(w) {
			t.Fatalf("entry %d keys: %v", i, got)
		}
		for k, v := range w {
			if id, ok := v.(int32); ok {
				v = float64(id)
			}
			if got[k] != v {
				t.Fatalf("entry %d: %s = %v, want %v (%v)", i, k, got[k], v, got)
			}
		}
	}

	for _, u := range []apitest.User{env.User(t, auth.Teacher), env.User(t, auth.Admin)} {
		if body := env.Do(t, "GET", "/lessons/student/grades", u, nil).Status(t, 200).Body; string(body) != "[]" {
			t.Fatalf("%s: %s", u.Role, body)
		}
	}
	env.Do(t, "GET", "/lessons/student/grades/", student, nil).Status(t, 200)
	env.Do(t, "GET", "/lessons/student/grades", apitest.User{}, nil).Error(t, 401, "Not authenticated")
	env.Do(t, "POST", "/lessons/student/grades", student, nil).Error(t, 405, "Method Not Allowed")
	// "/student/grades" is not taken for "/{lesson_id}/…", and "{lesson_id}" still answers its own paths.
	env.Do(t, "GET", "/lessons/student", student, nil).HasIssue(t, "int_parsing", "path.lesson_id")
	env.Do(t, "GET", fmt.Sprintf("/lessons/%d/my-submissions", hwLesson), student, nil).Status(t, 200)
}

package quiz_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
)

func TestUpdateTest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	oldWant := []any{[]any{"Вопрос 1", 1, []any{[]any{"Вариант 0", 0}, []any{"Вариант 1", 1}, []any{"Вариант 2", 2}}}}

	t.Run("replaces questions, keeps results, lesson_id semantics", func(t *testing.T) {
		q := w.seed(t, w.subject, &w.lesson, 1)
		w.env.Exec(t, `INSERT INTO results (user_id, lesson_id, test_id, score) VALUES ($1, $2, $3, 100)`, w.student.ID, w.lesson, q.id)
		path := fmt.Sprintf("/tests/%d", q.id)
		steps := []struct {
			name       string
			as         apitest.User
			body       map[string]any
			wantLesson any
		}{
			{"lesson_id absent keeps the link", w.teacher, without(testBody("Новый", nil, nil, twoQuestions...), "lesson_id"), w.lesson},
			{"lesson_id number relinks", w.admin, testBody("Новый", w.subject, w.lesson2, twoQuestions...), w.lesson2},
			{"lesson_id null unlinks", w.teacher, testBody("Новый", nil, nil, twoQuestions...), nil},
		}
		for _, s := range steps {
			got := w.env.Do(t, "PUT", path, s.as, s.body).Status(t, 200).Map(t)
			jsonEq(t, got, map[string]any{"id": q.id, "title": "Новый", "subject_id": w.subject, "lesson_id": s.wantLesson})
			jsonEq(t, questionsOf(t, w, q.id), twoQuestionsWant)
			if n := w.env.Count(t, `SELECT count(*) FROM questions WHERE id = $1`, q.questions[0]); n != 0 {
				t.Fatalf("%s: old question kept", s.name)
			}
			if n := w.env.Count(t, `SELECT count(*) FROM questions`); n != 2 {
				t.Fatalf("%s: %d questions in the database, want 2", s.name, n)
			}
		}
		if n := w.env.Count(t, `SELECT count(*) FROM results WHERE test_id = $1 AND score = 100`, q.id); n != 1 {
			t.Fatal("result not kept as it was")
		}
	})

	t.Run("admin moves a test to another subject with its lesson", func(t *testing.T) {
		q := w.seed(t, w.subject, nil, 1)
		got := w.env.Do(t, "PUT", fmt.Sprintf("/tests/%d", q.id), w.admin, testBody("Физика", w.subject2, w.foreignLesson)).Status(t, 200).Map(t)
		jsonEq(t, got, map[string]any{"id": q.id, "title": "Физика", "subject_id": w.subject2, "lesson_id": w.foreignLesson})
		// The lesson is kept when absent, so moving away from it fails.
		w.env.Do(t, "PUT", fmt.Sprintf("/tests/%d", q.id), w.admin, without(testBody("Ф", w.subject, nil), "lesson_id")).
			Error(t, 400, "Урок относится к другому предмету")
	})

	t.Run("refused", func(t *testing.T) {
		q := w.seed(t, w.subject, &w.lesson2, 1)
		path := fmt.Sprintf("/tests/%d", q.id)
		body := testBody("Т", nil, nil)
		for _, c := range []struct {
			name   string
			as     apitest.User
			body   map[string]any
			status int
			detail string
		}{
			{"other teacher", w.other, body, 403, "Нет доступа к предмету"},
			{"teacher moving into a subject they do not teach", w.teacher, testBody("Т", w.subject2, nil), 403, "Нет доступа к предмету"},
			{"other teacher moving into their own subject", w.other, testBody("Т", w.subject2, nil), 403, "Нет доступа к предмету"},
			{"student", w.student, body, 403, "Доступ воспрещен: только для преподавателей"},
			{"no token", apitest.User{}, body, 401, "Not authenticated"},
			{"unknown test", w.admin, body, 404, "Тест не найден"},
			{"unknown subject", w.admin, testBody("Т", 999999, nil), 404, "Предмет не найден"},
			{"unknown lesson", w.admin, testBody("Т", nil, 999999), 404, "Урок не найден"},
			{"404 before 403", w.other, testBody("Т", 999999, nil), 404, "Предмет не найден"},
			{"lesson of another subject", w.admin, testBody("Т", nil, w.foreignLesson), 400, "Урок относится к другому предмету"},
		} {
			t.Run(c.name, func(t *testing.T) {
				p := path
				if c.detail == "Тест не найден" {
					p = "/tests/999999"
				}
				w.env.Do(t, "PUT", p, c.as, c.body).Error(t, c.status, c.detail)
				jsonEq(t, questionsOf(t, w, q.id), oldWant)
			})
		}
	})

	// The lesson's unique key fires after the old questions were deleted:
	// the whole update must roll back and leave the old test intact.
	t.Run("failure after the delete step rolls back", func(t *testing.T) {
		taken := w.addLesson(t, w.subject)
		w.seed(t, w.subject, &taken, 0)
		q := w.seed(t, w.subject, nil, 1)
		w.env.Do(t, "PUT", fmt.Sprintf("/tests/%d", q.id), w.teacher, testBody("Новый", nil, taken, twoQuestions...)).
			Error(t, 400, "К этому уроку уже привязан тест")
		got := w.env.Do(t, "GET", fmt.Sprintf("/tests/%d", q.id), w.admin, nil).Status(t, 200).Map(t)
		if got["title"] != "Итоговый тест" || got["lesson_id"] != nil {
			t.Fatalf("test changed: %v", got)
		}
		jsonEq(t, questionsOf(t, w, q.id), oldWant)
		if n := w.env.Count(t, `SELECT count(*) FROM questions WHERE id = $1`, q.questions[0]); n != 1 {
			t.Fatal("old question row gone")
		}
	})
}

func without(m map[string]any, key string) map[string]any {
	delete(m, key)
	return m
}

func TestDeleteTest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, c := range []struct {
		name   string
		as     apitest.User
		status int
		detail string
	}{
		{"other teacher", w.other, 403, "Нет доступа к предмету"},
		{"student", w.student, 403, "Доступ воспрещен: только для преподавателей"},
		{"no token", apitest.User{}, 401, "Not authenticated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := w.seed(t, w.subject, nil, 1)
			w.env.Do(t, "DELETE", fmt.Sprintf("/tests/%d", q.id), c.as, nil).Error(t, c.status, c.detail)
			if w.env.Count(t, `SELECT count(*) FROM tests WHERE id = $1`, q.id) != 1 {
				t.Fatal("refused delete removed the test")
			}
		})
	}
	for _, c := range []struct {
		name string
		as   apitest.User
	}{{"subject teacher", w.teacher}, {"admin", w.admin}} {
		t.Run(c.name, func(t *testing.T) {
			q := w.seed(t, w.subject, &w.lesson, 1, 2)
			w.env.Exec(t, `INSERT INTO results (user_id, lesson_id, test_id, score) VALUES ($1, $2, $3, 50)`, w.student.ID, w.lesson, q.id)
			other := w.seed(t, w.subject, nil, 1)
			res := w.env.Do(t, "DELETE", fmt.Sprintf("/tests/%d/", q.id), c.as, nil).Status(t, 204)
			if len(res.Body) != 0 {
				t.Fatalf("204 with body %q", res.Body)
			}
			for _, sql := range []string{
				`SELECT count(*) FROM tests WHERE id = $1`,
				`SELECT count(*) FROM questions WHERE test_id = $1`,
				`SELECT count(*) FROM options o JOIN questions q ON q.id = o.question_id WHERE q.test_id = $1`,
				`SELECT count(*) FROM results WHERE test_id = $1`,
			} {
				if n := w.env.Count(t, sql, q.id); n != 0 {
					t.Fatalf("%s: %d left", sql, n)
				}
			}
			if w.env.Count(t, `SELECT count(*) FROM options WHERE question_id = $1`, other.questions[0]) != 3 {
				t.Fatal("another test's options were deleted")
			}
			w.env.Do(t, "DELETE", fmt.Sprintf("/tests/%d", q.id), c.as, nil).Error(t, 404, "Тест не найден")
		})
	}
	w.env.Do(t, "DELETE", "/tests/x", w.admin, nil).HasIssue(t, "int_parsing", "path.test_id")
}

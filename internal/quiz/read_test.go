package quiz_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
)

// fullWant is the TestFull a caller should get for a test seeded with
// correct indexes 1 and 2; showAnswers decides correct_option_index.
func fullWant(w *world, q seeded, lesson *int32, showAnswers bool, result any) map[string]any {
	questions := []any{}
	for i, qid := range q.questions {
		var correct any
		if showAnswers {
			correct = []int{1, 2}[i]
		}
		opts := []any{}
		for n := range 3 {
			opts = append(opts, map[string]any{"option_text": fmt.Sprintf("Вариант %d", n), "option_index": n})
		}
		questions = append(questions, map[string]any{
			"id": qid, "question_text": fmt.Sprintf("Вопрос %d", i+1), "correct_option_index": correct, "options": opts,
		})
	}
	return map[string]any{"id": q.id, "title": "Итоговый тест", "subject_id": w.subject, "lesson_id": lesson,
		"questions": questions, "result": result}
}

// stripOptionIDs checks option ids ascend within each question and drops
// them so the rest compares exactly.
func stripOptionIDs(t *testing.T, m map[string]any) {
	t.Helper()
	for _, q := range m["questions"].([]any) {
		last := 0.0
		for _, o := range q.(map[string]any)["options"].([]any) {
			om := o.(map[string]any)
			id, ok := om["id"].(float64)
			if !ok || id <= last {
				t.Fatalf("option ids not ascending: %v", q)
			}
			last = id
			delete(om, "id")
		}
	}
}

func TestGetTest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	q := w.seed(t, w.subject, &w.lesson, 1, 2)
	resultID := w.env.ID(t, `INSERT INTO results (user_id, lesson_id, test_id, score, submitted_at)
VALUES ($1, $2, $3, 66.67, '2025-06-05T10:00:00.123456Z') RETURNING id`, w.student.ID, w.lesson, q.id)
	studentResult := map[string]any{"id": resultID, "user_id": w.student.ID, "lesson_id": w.lesson, "test_id": q.id,
		"score": 66.67, "submitted_at": "2025-06-05T10:00:00.123456Z"}

	cases := []struct {
		name        string
		as          apitest.User
		showAnswers bool
		result      any
	}{
		{"admin sees answers", w.admin, true, nil},
		{"subject teacher sees answers", w.teacher, true, nil},
		{"other teacher reads and sees answers", w.other, true, nil},
		{"student gets no answers and their result", w.student, false, studentResult},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := w.env.Do(t, "GET", fmt.Sprintf("/tests/%d", q.id), c.as, nil).Status(t, 200)
			got := res.Map(t)
			stripOptionIDs(t, got)
			jsonEq(t, got, fullWant(w, q, &w.lesson, c.showAnswers, c.result))
		})
	}

	t.Run("errors", func(t *testing.T) {
		w.env.Do(t, "GET", fmt.Sprintf("/tests/%d", q.id), w.outsider, nil).Error(t, 403, "Нет доступа к предмету")
		w.env.Do(t, "GET", fmt.Sprintf("/tests/%d", q.id), apitest.User{}, nil).Error(t, 401, "Not authenticated")
		w.env.Do(t, "GET", "/tests/999999", w.admin, nil).Error(t, 404, "Тест не найден")
		w.env.Do(t, "GET", "/tests/99999999999", w.admin, nil).Error(t, 404, "Тест не найден")
		w.env.Do(t, "GET", "/tests/abc", w.admin, nil).HasIssue(t, "int_parsing", "path.test_id")
	})

	t.Run("empty test has empty lists", func(t *testing.T) {
		empty := w.seed(t, w.subject, nil)
		res := w.env.Do(t, "GET", fmt.Sprintf("/tests/%d", empty.id), w.student, nil).Status(t, 200)
		jsonEq(t, res.Map(t), map[string]any{"id": empty.id, "title": "Итоговый тест", "subject_id": w.subject,
			"lesson_id": nil, "questions": []any{}, "result": nil})
	})
}

// TestQueryCounts checks reads cost a fixed number of queries whatever the
// test's size, over HTTP through the real server: the counts are besides
// authentication's user lookup, which is added.
func TestQueryCounts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	small := w.seed(t, w.subject, &w.lesson, 0)
	big := w.seed(t, w.subject, &w.lesson2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2)
	measure := func(method, path string, as apitest.User, body any, status int) int64 {
		t.Helper()
		return w.env.Queries(func() { w.env.Do(t, method, path, as, body).Status(t, status) }) - apitest.AuthQueries
	}
	for _, c := range []struct {
		name string
		as   apitest.User
		want int64
	}{{"student", w.student, 5}, {"teacher", w.teacher, 4}} {
		for _, id := range []int32{small.id, big.id} {
			if got := measure("GET", fmt.Sprintf("/tests/%d", id), c.as, nil, 200); got != c.want {
				t.Errorf("GET /tests/%d as %s: %d queries, want %d", id, c.name, got, c.want)
			}
		}
		if got := measure("GET", fmt.Sprintf("/tests/by-subject/%d", w.subject), c.as, nil, 200); got != c.want-2 {
			t.Errorf("GET by-subject as %s: %d queries, want %d", c.name, got, c.want-2)
		}
	}
	for _, id := range []int32{small.id, big.id} {
		body := fmt.Sprintf(`{"test_id": %d, "answers": [{"question_id": 1, "selected_index": 0}]}`, id)
		if got := measure("POST", "/tests/submit", w.student, body, 200); got != 4 {
			t.Errorf("submit test %d: %d queries, want 4", id, got)
		}
	}
}

func TestTestsBySubject(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.seed(t, w.subject, &w.lesson, 1)
	b := w.seed(t, w.subject, nil)
	w.seed(t, w.subject2, nil, 1)
	want := []any{
		map[string]any{"id": a.id, "title": "Итоговый тест", "subject_id": w.subject, "lesson_id": w.lesson},
		map[string]any{"id": b.id, "title": "Итоговый тест", "subject_id": w.subject, "lesson_id": nil},
	}
	path := fmt.Sprintf("/tests/by-subject/%d", w.subject)
	for name, u := range map[string]apitest.User{"admin": w.admin, "teacher": w.teacher, "other teacher": w.other, "student": w.student} {
		t.Run(name, func(t *testing.T) {
			jsonEq(t, w.env.Do(t, "GET", path, u, nil).Status(t, 200).List(t), want)
			jsonEq(t, w.env.Do(t, "GET", path+"/", u, nil).Status(t, 200).List(t), want)
		})
	}
	t.Run("empty subject gives []", func(t *testing.T) {
		empty := w.env.ID(t, `INSERT INTO subjects (module_id, title) SELECT module_id, 'Пусто' FROM subjects WHERE id = $1 RETURNING id`, w.subject)
		res := w.env.Do(t, "GET", fmt.Sprintf("/tests/by-subject/%d", empty), w.student, nil).Status(t, 200)
		if string(res.Body) != "[]" {
			t.Fatalf("body %s, want []", res.Body)
		}
	})
	t.Run("errors", func(t *testing.T) {
		w.env.Do(t, "GET", path, w.outsider, nil).Error(t, 403, "Нет доступа к предмету")
		w.env.Do(t, "GET", path, apitest.User{}, nil).Error(t, 401, "Not authenticated")
		w.env.Do(t, "GET", "/tests/by-subject/999999", w.admin, nil).Error(t, 404, "Предмет не найден")
		w.env.Do(t, "GET", "/tests/by-subject/999999", w.outsider, nil).Error(t, 404, "Предмет не найден")
		w.env.Do(t, "GET", "/tests/by-subject/x", w.admin, nil).HasIssue(t, "int_parsing", "path.subject_id")
	})
}

// TestRouting checks the static paths are not shadowed by /{test_id} and
// that the router answers unknown paths and methods without a token.
func TestRouting(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Static routes reach their own handlers.
	w.env.Do(t, "POST", "/tests/submit", w.student, map[string]any{"test_id": 1}).Error(t, 400, "Нет ответов на тест")
	w.env.Do(t, "POST", "/tests/create", w.teacher, testBody("Т", nil, nil)).HasIssue(t, "missing", "body.subject_id")
	w.env.Do(t, "GET", "/tests/by-subject/999999", w.student, nil).Error(t, 404, "Предмет не найден")
	// Other methods on a static path fall through to /{test_id}, as FastAPI matches them.
	w.env.Do(t, "GET", "/tests/create", w.student, nil).HasIssue(t, "int_parsing", "path.test_id")
	w.env.Do(t, "DELETE", "/tests/submit", w.admin, nil).HasIssue(t, "int_parsing", "path.test_id")
	// Unknown paths and methods: 404/405 before authentication.
	w.env.Do(t, "GET", "/tests/1/x", apitest.User{}, nil).Error(t, 404, "Not Found")
	res := w.env.Do(t, "PATCH", "/tests/1", apitest.User{}, nil)
	res.Error(t, 405, "Method Not Allowed")
	if res.Header.Get("Allow") == "" {
		t.Fatal("405 without Allow")
	}
	w.env.Do(t, "POST", "/tests/1", w.admin, nil).Error(t, 405, "Method Not Allowed")
}

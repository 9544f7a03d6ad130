package quiz_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"platform/internal/apitest"
	"platform/internal/quiz"
)

func answers(pairs ...int32) []any {
	out := []any{}
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, map[string]any{"question_id": pairs[i], "selected_index": pairs[i+1]})
	}
	return out
}

func TestSubmitScoring(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cases := []struct {
		name    string
		correct []int32                // the test's correct indexes
		answer  func(qs []int32) []any // the student's answers
		score   float64
	}{
		{"all right", []int32{1, 2}, func(q []int32) []any { return answers(q[0], 1, q[1], 2) }, 100},
		{"none right", []int32{1, 2}, func(q []int32) []any { return answers(q[0], 0, q[1], 0) }, 0},
		{"two of three", []int32{1, 1, 1}, func(q []int32) []any { return answers(q[0], 1, q[1], 1, q[2], 0) }, 66.67},
		{"one of three", []int32{1, 1, 1}, func(q []int32) []any { return answers(q[0], 1) }, 33.33},
		{"one of eight", []int32{0, 0, 0, 0, 0, 0, 0, 0}, func(q []int32) []any { return answers(q[0], 0) }, 12.5},
		{"unknown question ids ignored", []int32{1, 2}, func(q []int32) []any { return answers(999999, 1, q[0], 1, -5, 2) }, 50},
		{"first answer per question counts", []int32{1, 2}, func(q []int32) []any { return answers(q[0], 0, q[0], 1, q[1], 2, q[1], 0) }, 50},
		{"duplicate right answers count once", []int32{1, 2}, func(q []int32) []any { return answers(q[0], 1, q[0], 1, q[0], 1) }, 50},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lesson := w.addLesson(t, w.subject)
			q := w.seed(t, w.subject, &lesson, c.correct...)
			before := time.Now().Add(-time.Minute)
			res := w.env.Do(t, "POST", "/tests/submit", w.student, map[string]any{"test_id": q.id, "lesson_id": 424242, "answers": c.answer(q.questions)}).Status(t, 200)
			got := res.Map(t)
			at, err := time.Parse(time.RFC3339Nano, got["submitted_at"].(string))
			if err != nil || at.Before(before) || at.After(time.Now().Add(time.Minute)) {
				t.Fatalf("submitted_at %v", got["submitted_at"])
			}
			delete(got, "submitted_at")
			jsonEq(t, got, map[string]any{"id": got["id"], "user_id": w.student.ID, "lesson_id": lesson, "test_id": q.id, "score": c.score})
			if n := w.env.Count(t, `SELECT count(*) FROM results WHERE test_id = $1 AND user_id = $2 AND score = $3 AND lesson_id = $4`, q.id, w.student.ID, c.score, lesson); n != 1 {
				t.Fatalf("result row not stored as answered")
			}
			// The result shows up in the test for the student, still without answers.
			full := w.env.Do(t, "GET", fmt.Sprintf("/tests/%d", q.id), w.student, nil).Status(t, 200).Map(t)
			if r, _ := full["result"].(map[string]any); r == nil || r["score"] != c.score {
				t.Fatalf("result in GET: %v", full["result"])
			}
			for _, qq := range full["questions"].([]any) {
				if v, ok := qq.(map[string]any)["correct_option_index"]; !ok || v != nil {
					t.Fatalf("answer leaked to a student: %v", qq)
				}
			}
		})
	}
}

func TestSubmitErrors(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	linked := w.seed(t, w.subject, &w.lesson, 1)
	unlinked := w.seed(t, w.subject, nil, 1)
	empty := w.seed(t, w.subject, &w.lesson2)
	foreign := w.addLesson(t, w.subject2)
	foreignTest := w.seed(t, w.subject2, &foreign, 1)
	w.env.Exec(t, `DELETE FROM module_group`) // the student now reads only subject2, through subject_group
	group := w.env.ID(t, `SELECT group_id FROM user_group WHERE user_id = $1`, w.student.ID)
	w.env.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, w.subject, group)
	ok := answers(linked.questions[0], 1)

	for _, c := range []struct {
		name   string
		as     apitest.User
		body   any
		status int
		detail string
	}{
		{"answers absent", w.student, map[string]any{"test_id": linked.id}, 400, "Нет ответов на тест"},
		{"answers null", w.student, map[string]any{"test_id": linked.id, "answers": nil}, 400, "Нет ответов на тест"},
		{"answers empty, before the test lookup", w.student, map[string]any{"test_id": 999999, "answers": []any{}}, 400, "Нет ответов на тест"},
		{"test_id null", w.student, map[string]any{"answers": ok}, 404, "Тест не найден"},
		{"unknown test", w.student, map[string]any{"test_id": 999999, "answers": ok}, 404, "Тест не найден"},
		{"no read access", w.student, map[string]any{"test_id": foreignTest.id, "answers": ok}, 403, "Нет доступа к предмету"},
		{"outsider, before the lesson check", w.outsider, map[string]any{"test_id": unlinked.id, "answers": ok}, 403, "Нет доступа к предмету"},
		{"test not linked", w.student, map[string]any{"test_id": unlinked.id, "answers": ok}, 400, "Тест не привязан к уроку"},
		{"no questions", w.student, map[string]any{"test_id": empty.id, "answers": ok}, 400, "У теста нет вопросов"},
		{"teacher", w.teacher, map[string]any{"test_id": linked.id, "answers": ok}, 403, "Доступ воспрещен: только для студентов"},
		{"admin", w.admin, map[string]any{"test_id": linked.id, "answers": ok}, 403, "Доступ воспрещен: только для студентов"},
		{"no token", apitest.User{}, map[string]any{"test_id": linked.id, "answers": ok}, 401, "Not authenticated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.env.Do(t, "POST", "/tests/submit", c.as, c.body).Error(t, c.status, c.detail)
		})
	}
	if n := w.env.Count(t, `SELECT count(*) FROM results`); n != 0 {
		t.Fatalf("%d results after refused submits", n)
	}

	t.Run("422", func(t *testing.T) {
		w.env.Do(t, "POST", "/tests/submit", w.student, map[string]any{"test_id": linked.id, "answers": []any{map[string]any{"question_id": 1}}}).
			HasIssue(t, "missing", "body.answers.0.selected_index")
		w.env.Do(t, "POST", "/tests/submit", w.student, map[string]any{"test_id": "x", "answers": ok}).HasIssue(t, "int_parsing", "body.test_id")
		w.env.Do(t, "POST", "/tests/submit", w.student, map[string]any{"lesson_id": 1.5, "answers": ok}).HasIssue(t, "int_from_float", "body.lesson_id")
		w.env.Do(t, "POST", "/tests/submit", w.student, map[string]any{"answers": "x"}).HasIssue(t, "list_type", "body.answers")
		w.env.Do(t, "POST", "/tests/submit", w.student, nil).HasIssue(t, "missing", "body")
	})

	t.Run("second submit", func(t *testing.T) {
		w.env.Do(t, "POST", "/tests/submit", w.student, map[string]any{"test_id": linked.id, "answers": ok}).Status(t, 200)
		w.env.Do(t, "POST", "/tests/submit", w.student, map[string]any{"test_id": linked.id, "answers": ok}).Error(t, 400, "Вы уже проходили этот тест")
	})
}

// TestSubmitConcurrent: simultaneous submits of one student give one result;
// the database's unique key turns the others into 400s, never 500s.
func TestSubmitConcurrent(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	q := w.seed(t, w.subject, &w.lesson, 1, 2)
	race(t, 8, "Вы уже проходили этот тест", func() *apitest.Response {
		return w.env.Do(t, "POST", "/tests/submit", w.student, map[string]any{"test_id": q.id, "answers": answers(q.questions[0], 1)})
	})
	if n := w.env.Count(t, `SELECT count(*) FROM results WHERE test_id = $1`, q.id); n != 1 {
		t.Fatalf("%d result rows, want 1", n)
	}
}

// TestRound2 pins the rounding to Python's round(x, 2); each want was
// computed by CPython 3 from the same double.
func TestRound2(t *testing.T) {
	t.Parallel()
	// pct computes at run time, as the handler does (a constant expression
	// would be evaluated exactly and could land on another double).
	pct := func(correct, total float64) float64 { return correct / total * 100 }
	for _, c := range []struct{ x, want float64 }{
		{pct(2, 3), 66.67}, // 66.66666666666666
		{pct(1, 3), 33.33},
		{pct(5, 6), 83.33},
		{pct(1, 6), 16.67},
		{pct(1, 7), 14.29},
		{pct(1, 800), 0.12}, // 0.125: exact tie → even
		{pct(7, 800), 0.88}, // 0.8750000000000001
		{12.5, 12.5},
		{0.125, 0.12}, // exact tie → even
		{0.375, 0.38}, // exact tie → even
		{3.125, 3.12}, // exact tie → even
		{0.625, 0.62}, // exact tie → even
		{0.8750000000000001, 0.88},
		{2.675, 2.67}, // the double is below the half
		{1.005, 1.0},  // below
		{0.005, 0.01}, // above
		{0.015, 0.01}, // below
		{0.025, 0.03}, // above
		{33.335, 33.34},
		{66.665, 66.67},
		{100, 100},
		{0, 0},
	} {
		if got := quiz.Round2(c.x); got != c.want || math.Signbit(got) {
			t.Errorf("Round2(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

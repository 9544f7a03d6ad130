package quiz_test

import (
	"fmt"
	"strings"
	"testing"

	"platform/internal/apitest"
)

// questionsOf reads a test back through GET as an admin (answers shown),
// without ids, to compare content.
func questionsOf(t *testing.T, w *world, id any) []any {
	t.Helper()
	m := w.env.Do(t, "GET", fmt.Sprintf("/tests/%v", id), w.admin, nil).Status(t, 200).Map(t)
	out := []any{}
	for _, q := range m["questions"].([]any) {
		qm := q.(map[string]any)
		opts := []any{}
		for _, o := range qm["options"].([]any) {
			om := o.(map[string]any)
			opts = append(opts, []any{om["option_text"], om["option_index"]})
		}
		out = append(out, []any{qm["question_text"], qm["correct_option_index"], opts})
	}
	return out
}

var twoQuestions = []question{
	{text: "2+2?", correct: 1, options: []int{0, 1}},
	{text: "3+3?", correct: 7, options: []int{5, 7, 6}},
}

// twoQuestionsWant is twoQuestions as questionsOf reports them (body order kept).
var twoQuestionsWant = []any{
	[]any{"2+2?", 1, []any{[]any{"Ответ 0", 0}, []any{"Ответ 1", 1}}},
	[]any{"3+3?", 7, []any{[]any{"Ответ 5", 5}, []any{"Ответ 7", 7}, []any{"Ответ 6", 6}}},
}

func TestCreateTest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)

	t.Run("admitted", func(t *testing.T) {
		for _, c := range []struct {
			name            string
			as              apitest.User
			subject, lesson any
			wantLesson      any
		}{
			{"subject teacher, subject and lesson", w.teacher, w.subject, w.lesson, w.lesson},
			{"admin, subject only", w.admin, w.subject, nil, nil},
			{"teacher, lesson only: subject from the lesson", w.teacher, nil, w.lesson2, w.lesson2},
		} {
			res := w.env.Do(t, "POST", "/tests/create", c.as, testBody("Итоговый тест", c.subject, c.lesson, twoQuestions...)).Status(t, 200)
			got := res.Map(t)
			id := got["id"]
			jsonEq(t, got, map[string]any{"id": id, "title": "Итоговый тест", "subject_id": w.subject, "lesson_id": c.wantLesson})
			jsonEq(t, questionsOf(t, w, id), twoQuestionsWant)
		}
	})

	t.Run("empty questions and trailing slash", func(t *testing.T) {
		res := w.env.Do(t, "POST", "/tests/create/", w.teacher, testBody("Пустой", w.subject, nil)).Status(t, 200)
		jsonEq(t, questionsOf(t, w, res.Map(t)["id"]), []any{})
	})

	t.Run("refused", func(t *testing.T) {
		body := testBody("Т", w.subject, nil, twoQuestions...)
		w.env.Do(t, "POST", "/tests/create", w.other, body).Error(t, 403, "Нет доступа к предмету")
		w.env.Do(t, "POST", "/tests/create", w.student, body).Error(t, 403, "Доступ воспрещен: только для преподавателей")
		w.env.Do(t, "POST", "/tests/create", apitest.User{}, body).Error(t, 401, "Not authenticated")
		// Via the lesson, too.
		w.env.Do(t, "POST", "/tests/create", w.other, testBody("Т", nil, w.lesson2, twoQuestions...)).Error(t, 403, "Нет доступа к предмету")
	})

	t.Run("errors", func(t *testing.T) {
		taken := w.addLesson(t, w.subject)
		w.seed(t, w.subject, &taken, 0)
		for _, c := range []struct {
			name            string
			subject, lesson any
			status          int
			detail          string
		}{
			{"unknown subject", 999999, nil, 404, "Предмет не найден"},
			{"unknown subject before lesson", 999999, 999999, 404, "Предмет не найден"},
			{"unknown lesson", w.subject, 999999, 404, "Урок не найден"},
			{"unknown lesson alone", nil, 999999, 404, "Урок не найден"},
			{"lesson of another subject", w.subject, w.foreignLesson, 400, "Урок относится к другому предмету"},
			{"lesson already has a test", w.subject, taken, 400, "К этому уроку уже привязан тест"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := w.env.Count(t, `SELECT count(*) FROM tests`)
				w.env.Do(t, "POST", "/tests/create", w.admin, testBody("Т", c.subject, c.lesson, twoQuestions...)).Error(t, c.status, c.detail)
				if after := w.env.Count(t, `SELECT count(*) FROM tests`); after != before {
					t.Fatalf("tests %d → %d after a refused create", before, after)
				}
			})
		}
	})
}

// TestTestBody422 checks the body's validation shapes for create and update.
func TestTestBody422(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	existing := w.seed(t, w.subject, nil, 1)
	q := func(correct any, options ...any) map[string]any {
		if options == nil {
			options = []any{} // an empty list, not null
		}
		return map[string]any{"question_text": "Q", "correct_option_index": correct, "options": options}
	}
	opt := func(i any) map[string]any { return map[string]any{"option_text": "O", "option_index": i} }
	body := func(qs ...any) map[string]any {
		return map[string]any{"title": "T", "subject_id": w.subject, "questions": qs}
	}
	cases := []struct {
		name, typ, loc string
		body           any
		msg            string
	}{
		{"no options", "value_error", "body.questions.0.options", body(q(0)), "Value error, у вопроса должен быть хотя бы один вариант ответа"},
		{"duplicate option_index", "value_error", "body.questions.1.options", body(q(0, opt(0)), q(1, opt(1), opt(1))), "Value error, значения option_index в вопросе должны быть уникальными"},
		{"correct index names no option", "value_error", "body.questions.1.correct_option_index", body(q(0, opt(0)), q(2, opt(0), opt(1))), "Value error, correct_option_index должен совпадать с option_index одного из вариантов"},
		{"questions missing", "missing", "body.questions", map[string]any{"title": "T", "subject_id": w.subject}, "Field required"},
		{"questions not a list", "list_type", "body.questions", map[string]any{"title": "T", "subject_id": w.subject, "questions": "x"}, "Input should be a valid list"},
		{"title missing", "missing", "body.title", map[string]any{"subject_id": w.subject, "questions": []any{}}, "Field required"},
		{"title too long", "string_too_long", "body.title", map[string]any{"title": strings.Repeat("я", 101), "subject_id": w.subject, "questions": []any{}}, "String should have at most 100 characters"},
		{"title not a string", "string_type", "body.title", map[string]any{"title": 5, "subject_id": w.subject, "questions": []any{}}, "Input should be a valid string"},
		{"option_index not an integer", "int_parsing", "body.questions.0.options.1.option_index", body(q(0, opt(0), opt("x"))), "Input should be a valid integer, unable to parse string as an integer"},
		{"option missing text", "missing", "body.questions.0.options.0.option_text", body(q(0, map[string]any{"option_index": 0})), "Field required"},
		{"question missing correct index", "missing", "body.questions.0.correct_option_index", body(map[string]any{"question_text": "Q", "options": []any{opt(0)}}), "Field required"},
		{"question not an object", "model_attributes_type", "body.questions.0", body("x"), "Input should be a valid dictionary or object to extract fields from"},
		{"subject_id not an integer", "int_from_float", "body.subject_id", map[string]any{"title": "T", "subject_id": 1.5, "questions": []any{}}, "Input should be a valid integer, got a number with a fractional part"},
		{"NUL in text", "value_error", "body.questions.0.question_text", body(map[string]any{"question_text": "a\x00b", "correct_option_index": 0, "options": []any{opt(0)}}), "Value error, строка не должна содержать символ NUL"},
		{"body not an object", "model_attributes_type", "body", []any{}, "Input should be a valid dictionary or object to extract fields from"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, target := range []struct{ method, path string }{{"POST", "/tests/create"}, {"PUT", fmt.Sprintf("/tests/%d", existing.id)}} {
				is := w.env.Do(t, target.method, target.path, w.admin, c.body).HasIssue(t, c.typ, c.loc)
				if is.Msg != c.msg {
					t.Fatalf("%s: msg %q, want %q", target.method, is.Msg, c.msg)
				}
			}
		})
	}
	if n := w.env.Count(t, `SELECT count(*) FROM tests`); n != 1 {
		t.Fatalf("%d tests after invalid bodies, want 1", n)
	}
	jsonEq(t, questionsOf(t, w, existing.id), []any{[]any{"Вопрос 1", 1, []any{[]any{"Вариант 0", 0}, []any{"Вариант 1", 1}, []any{"Вариант 2", 2}}}})

	t.Run("create without subject and lesson", func(t *testing.T) {
		for _, b := range []map[string]any{
			{"title": "T", "questions": []any{}},
			{"title": "T", "subject_id": nil, "lesson_id": nil, "questions": []any{}},
		} {
			is := w.env.Do(t, "POST", "/tests/create", w.admin, b).HasIssue(t, "missing", "body.subject_id")
			jsonEq(t, is.Input, b)
		}
		// An update may name neither: the subject is kept.
		w.env.Do(t, "PUT", fmt.Sprintf("/tests/%d", existing.id), w.admin, map[string]any{"title": "T", "questions": []any{}}).Status(t, 200)
	})

	t.Run("issue input and ctx", func(t *testing.T) {
		is := w.env.Do(t, "POST", "/tests/create", w.admin, body(q(0))).HasIssue(t, "value_error", "body.questions.0.options")
		jsonEq(t, is.Input, []any{})
		jsonEq(t, is.Ctx, map[string]any{"error": "у вопроса должен быть хотя бы один вариант ответа"})
		is = w.env.Do(t, "POST", "/tests/create", w.admin, body(q(2, opt(0)))).HasIssue(t, "value_error", "body.questions.0.correct_option_index")
		jsonEq(t, is.Input, 2)
	})

	t.Run("path and body issues together", func(t *testing.T) {
		issues := w.env.Do(t, "PUT", "/tests/abc", w.admin, map[string]any{"questions": []any{}}).Invalid(t)
		if len(issues) != 2 || apitest.LocString(issues[0].Loc) != "path.test_id" || apitest.LocString(issues[1].Loc) != "body.title" {
			t.Fatalf("issues %+v", issues)
		}
	})
}

// TestCreateLessonRace: concurrent creates on one lesson give one test and 400s, never a 500.
func TestCreateLessonRace(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	race(t, 6, "К этому уроку уже привязан тест", func() *apitest.Response {
		return w.env.Do(t, "POST", "/tests/create", w.teacher, testBody("Т", w.subject, w.lesson, twoQuestions...))
	})
	if w.env.Count(t, `SELECT count(*) FROM tests`) != 1 || w.env.Count(t, `SELECT count(*) FROM questions`) != 2 {
		t.Fatalf("rows: tests %d, questions %d",
			w.env.Count(t, `SELECT count(*) FROM tests`), w.env.Count(t, `SELECT count(*) FROM questions`))
	}
}

package quiz_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// world is a seeded course: one module with two subjects. subject is taught
// by teacher, subject2 by other; student's group is linked to the module,
// outsider belongs to no group.
type world struct {
	env                                      *apitest.Env
	admin, teacher, other, student, outsider apitest.User
	subject, subject2                        int32
	lesson, lesson2, foreignLesson           int32 // lesson, lesson2 in subject; foreignLesson in subject2
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := apitest.New(t)
	w := &world{
		env:      env,
		admin:    env.User(t, auth.Admin),
		teacher:  env.User(t, auth.Teacher),
		other:    env.User(t, auth.Teacher),
		student:  env.User(t, auth.Student),
		outsider: env.User(t, auth.Student),
	}
	module := env.ID(t, `INSERT INTO modules (title, created_at) VALUES ('Модуль 1', now() AT TIME ZONE 'UTC') RETURNING id`)
	w.subject = env.ID(t, `INSERT INTO subjects (module_id, teacher_id, title) VALUES ($1, $2, 'Математика') RETURNING id`, module, w.teacher.ID)
	w.subject2 = env.ID(t, `INSERT INTO subjects (module_id, teacher_id, title) VALUES ($1, $2, 'Физика') RETURNING id`, module, w.other.ID)
	w.lesson = w.addLesson(t, w.subject)
	w.lesson2 = w.addLesson(t, w.subject)
	w.foreignLesson = w.addLesson(t, w.subject2)
	group := env.ID(t, `INSERT INTO groups (name) VALUES ('ИС-21') RETURNING id`)
	env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, w.student.ID, group)
	env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, module, group)
	return w
}

func (w *world) addLesson(t *testing.T, subject int32) int32 {
	t.Helper()
	return w.env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url, created_at)
VALUES ($1, 'Урок', 'Тест', 'https://example.com', now() AT TIME ZONE 'UTC') RETURNING id`, subject)
}

// seeded is a seeded test: question ids in order, each with options 0..n-1.
type seeded struct {
	id        int32
	questions []int32
}

// seed inserts a test whose i-th question has correct[i] as its correct
// option index and options 0, 1, 2.
func (w *world) seed(t *testing.T, subject int32, lesson *int32, correct ...int32) seeded {
	t.Helper()
	q := seeded{id: w.env.ID(t, `INSERT INTO tests (title, subject_id, lesson_id) VALUES ('Итоговый тест', $1, $2) RETURNING id`, subject, lesson)}
	for i, c := range correct {
		qid := w.env.ID(t, `INSERT INTO questions (test_id, question_text, correct_option_index) VALUES ($1, $2, $3) RETURNING id`,
			q.id, fmt.Sprintf("Вопрос %d", i+1), c)
		w.env.Exec(t, `INSERT INTO options (question_id, option_text, option_index)
SELECT $1, 'Вариант ' || n, n FROM generate_series(0, 2) AS n ORDER BY n`, qid)
		q.questions = append(q.questions, qid)
	}
	return q
}

// body builds a create/update body; questions are {text, correct, option indexes…}.
type question struct {
	text    string
	correct int
	options []int
}

func testBody(title string, subject, lesson any, qs ...question) map[string]any {
	list := make([]any, 0, len(qs))
	for _, q := range qs {
		opts := make([]any, 0, len(q.options))
		for _, i := range q.options {
			opts = append(opts, map[string]any{"option_text": fmt.Sprintf("Ответ %d", i), "option_index": i})
		}
		list = append(list, map[string]any{"question_text": q.text, "correct_option_index": q.correct, "options": opts})
	}
	return map[string]any{"title": title, "subject_id": subject, "lesson_id": lesson, "questions": list}
}

// jsonEq fails unless got (a decoded response) equals want once want is
// round-tripped through JSON, so numbers and nulls compare alike.
func jsonEq(t *testing.T, got any, want any) {
	t.Helper()
	raw, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var w any
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatal(err)
	}
	g, _ := json.Marshal(got)
	n, _ := json.Marshal(w)
	if string(g) != string(n) {
		t.Fatalf("body\n got: %s\nwant: %s", g, n)
	}
}

// race sends n copies of a request at once and checks exactly one succeeds
// and every other one is refused with 400 and the detail.
func race(t *testing.T, n int, detail string, send func() *apitest.Response) {
	t.Helper()
	res := make([]*apitest.Response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			res[i] = send()
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, r := range res {
		if r.Code == 200 {
			ok++
			continue
		}
		r.Error(t, 400, detail)
	}
	if ok != 1 {
		t.Fatalf("%d successes, want 1", ok)
	}
}

package grades_test

import (
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// TestSummaryIsOneQuery checks the hot read costs one statement besides
// authentication's user lookup, over HTTP through the real server, with few
// and many rows.
func TestSummaryIsOneQuery(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	student := env.User(t, auth.Student)
	module := env.ID(t, `INSERT INTO modules (title) VALUES ('М') RETURNING id`)
	subject := env.ID(t, `INSERT INTO subjects (module_id, title) VALUES ($1, 'С') RETURNING id`, module)

	for _, n := range []int{1, 40} {
		for range n {
			l := env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'Л', 'pdf', '') RETURNING id`, subject)
			env.Exec(t, `INSERT INTO lesson_submissions (lesson_id, user_id, grade) VALUES ($1, $2, 4)`, l, student.ID)
			env.Exec(t, `INSERT INTO results (user_id, lesson_id, score) VALUES ($1, $2, 12.5)`, student.ID, l)
		}
		got := env.Queries(func() { env.Do(t, "GET", "/lessons/student/grades", student, nil).Status(t, 200) })
		if want := int64(apitest.AuthQueries + 1); got != want {
			t.Fatalf("%d statements, want %d", got, want)
		}
	}
}

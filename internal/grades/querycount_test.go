package grades_test

import (
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"platform/internal/apitest"
	"platform/internal/auth"
	"platform/internal/grades"
)

// TestSummaryIsOneQuery checks the hot read costs one statement (the
// Authenticate middleware's user lookup not counted) with few and many rows.
func TestSummaryIsOneQuery(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	student := env.User(t, auth.Student)
	c := &apitest.CountingDB{DBTX: env.Pool}
	r := chi.NewRouter()
	r.Route("/lessons", func(r chi.Router) {
		grades.NewHandlerOn(c).Routes(r, auth.NewGuards(auth.Authenticate(env.Tokens, auth.NewRepo(env.Pool))))
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	module := env.ID(t, `INSERT INTO modules (title) VALUES ('М') RETURNING id`)
	subject := env.ID(t, `INSERT INTO subjects (module_id, title) VALUES ($1, 'С') RETURNING id`, module)

	for _, n := range []int{1, 40} {
		for range n {
			l := env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'Л', 'pdf', '') RETURNING id`, subject)
			env.Exec(t, `INSERT INTO lesson_submissions (lesson_id, user_id, grade) VALUES ($1, $2, 4)`, l, student.ID)
			env.Exec(t, `INSERT INTO results (user_id, lesson_id, score) VALUES ($1, $2, 12.5)`, student.ID, l)
		}
		if got := c.CountGET(t, srv, "/lessons/student/grades", student.Token); got != 1 {
			t.Fatalf("%d statements, want 1", got)
		}
	}
}

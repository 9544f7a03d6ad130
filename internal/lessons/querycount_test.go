package lessons_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"platform/internal/apitest"
	"platform/internal/auth"
	"platform/internal/lessons"
)

// TestQueryCounts checks that each read costs a fixed number of statements
// (the Authenticate middleware's user lookup not counted), whatever the
// number of rows.
func TestQueryCounts(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := &apitest.CountingDB{DBTX: f.env.Pool}
	r := chi.NewRouter()
	r.Route("/lessons", func(r chi.Router) {
		lessons.NewHandlerOn(f.env.Pool, c, f.env.Store).Routes(r, auth.NewGuards(auth.Authenticate(f.env.Tokens, auth.NewRepo(f.env.Pool))))
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	testID := f.test(t, f.subjectID, &f.lessonID)
	addRows := func(n int) {
		for i := range n {
			u := f.env.User(t, auth.Student)
			for range 3 {
				f.submission(t, f.lessonID, u.ID, fmt.Sprintf("static/homework/lesson_%d/%d_%d.txt", f.lessonID, u.ID, i))
			}
			f.result(t, u.ID, &f.lessonID, &testID, 50)
		}
		f.submission(t, f.lessonID, f.student.ID, "static/homework/x.txt", "static/homework/y.txt")
		f.result(t, f.student.ID, &f.lessonID, nil, 70)
	}
	cases := []struct {
		name string
		path string
		as   apitest.User
		want int64
	}{
		{"lesson, student (access checked in the query)", "/lessons/%d", f.student, 1},
		{"lesson, teacher", "/lessons/%d", f.teacher, 1},
		{"my submissions (rows, then all their files)", "/lessons/%d/my-submissions", f.student, 2},
		{"submission files (subject, rows, files)", "/lessons/%d/submissions/files?search=%%D0%%B8", f.teacher, 3},
		{"submission tests (subject, rows)", "/lessons/%d/submissions/tests", f.admin, 2},
	}
	for _, round := range []struct {
		name string
		rows int
	}{{"small", 1}, {"ten times more", 10}} {
		addRows(round.rows)
		for _, tc := range cases {
			if got := c.CountGET(t, srv, fmt.Sprintf(tc.path, f.lessonID), tc.as.Token); got != tc.want {
				t.Errorf("%s (%s): %d statements, want %d", tc.name, round.name, got, tc.want)
			}
		}
	}
}

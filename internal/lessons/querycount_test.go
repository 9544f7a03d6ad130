package lessons_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// TestQueryCounts checks that each read costs a fixed number of statements
// whatever the number of rows, over HTTP through the real server (the
// counts are besides authentication's user lookup, which is added).
func TestQueryCounts(t *testing.T) {
	t.Parallel()
	f := setup(t)
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
			path := fmt.Sprintf(tc.path, f.lessonID)
			got := f.env.Queries(func() { f.env.Do(t, "GET", path, tc.as, nil).Status(t, 200) })
			if want := apitest.AuthQueries + tc.want; got != want {
				t.Errorf("%s (%s): %d statements, want %d", tc.name, round.name, got, want)
			}
		}
	}
}

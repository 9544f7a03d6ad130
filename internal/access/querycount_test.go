package access_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
)

// TestQueryCountIsFixed measures the statements each read costs over HTTP,
// through the real server (authentication's user lookup included), and
// checks the count stays the same when the data grows tenfold.
func TestQueryCountIsFixed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	get := func(t *testing.T, path string, as apitest.User) int64 {
		t.Helper()
		return w.env.Queries(func() { w.env.Do(t, "GET", path, as, nil).Status(t, 200) })
	}
	m1 := fmt.Sprintf("/access/my-modules/%d", w.m1)
	// The module trees are cached per module (catalog.Tree): cold is the
	// first read after a write to the tree (every fragment rebuilt: one
	// statement for the revisions and visibility, three for the tree),
	// warm the next one (revisions and visibility only). Endpoints without
	// the cache cost the same both times.
	cases := []struct {
		name, path string
		as         apitest.User
		cold, warm int64 // besides authentication
	}{
		{"my-modules admin", "/access/my-modules", w.admin, 4, 1},
		{"my-modules student (module link)", "/access/my-modules", w.studentMod, 4, 1},
		{"my-modules student (subject link)", "/access/my-modules", w.studentSubj, 4, 1},
		{"my-modules teacher", "/access/my-modules", w.teacher, 5, 2},
		{"my-modules/{id} student", m1, w.studentMod, 5, 2},
		{"my-modules/{id} teacher", m1, w.teacher, 5, 2},
		{"admin-modules", "/access/admin-modules", w.admin, 4, 1},
		{"teacher-modules teacher", "/access/teacher-modules", w.teacher, 5, 2},
		{"teacher-subjects admin", "/access/teacher-subjects", w.admin, 2, 2},
		{"access-overview", "/access/access-overview", w.admin, 5, 5}, // the page of ids, then four per 100 modules
		{"lessons/{id} student", fmt.Sprintf("/access/lessons/%d", w.l1), w.studentMod, 6, 6},
	}
	measure := func(t *testing.T, round string) {
		for _, tc := range cases {
			// A no-op update still moves every module's revision (the
			// trigger does not compare values): the next read is cold.
			w.env.Exec(t, `UPDATE modules SET title = title`)
			for _, c := range []struct {
				temp string
				want int64
			}{{"cold", tc.cold}, {"warm", tc.warm}} {
				if got, want := get(t, tc.path, tc.as), apitest.AuthQueries+c.want; got != want {
					t.Errorf("%s (%s, %s): %d queries, want %d", tc.name, round, c.temp, got, want)
				}
			}
		}
	}
	measure(t, "small")

	// Grow everything the reads touch: 30 more modules, each with 3 subjects
	// of 4 lessons, linked to the students' groups, with results.
	for i := range 30 {
		m := w.env.ID(t, `INSERT INTO modules (title) VALUES ($1) RETURNING id`, fmt.Sprintf("extra %d", i))
		w.env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2), ($1, $3)`, m, w.g1, w.gTeach)
		for j := range 3 {
			s := w.env.ID(t, `INSERT INTO subjects (title, module_id, teacher_id) VALUES ('s', $1, $2) RETURNING id`, m, w.teacher.ID)
			w.env.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, s, w.g2)
			if j == 0 {
				w.env.Exec(t, `INSERT INTO teacher_module (module_id, teacher_id) VALUES ($1, $2)`, m, w.teacher.ID)
			}
			w.env.Exec(t, `INSERT INTO lessons (subject_id, title, type, content_url)
				SELECT $1, 'l', 'video', 'u' FROM generate_series(1, 4)`, s)
		}
		w.env.Exec(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'l', 'video', 'u')`, w.s1)
	}
	w.env.Exec(t, `INSERT INTO results (user_id, lesson_id, score) SELECT $1, id, 1 FROM lessons`, w.studentMod.ID)
	measure(t, "large")
}

package access_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"

	"platform/internal/access"
	"platform/internal/apitest"
	"platform/internal/auth"
)

// TestQueryCountIsFixed measures, over HTTP, the statements each read costs
// (the Authenticate middleware's user lookup, one more, is not counted) and
// checks the count stays the same when the data grows tenfold.
func TestQueryCountIsFixed(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := &apitest.CountingDB{DBTX: w.env.Pool}
	r := chi.NewRouter()
	auth.NewGuards(auth.Authenticate(w.env.Tokens, auth.NewRepo(w.env.Pool))).Mount(r, "/access", access.NewHandlerOn(c).Routes)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	get := func(t *testing.T, path, token string) int64 {
		t.Helper()
		c.Reset()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return c.Count()
	}
	m1 := fmt.Sprintf("/access/my-modules/%d", w.m1)
	cases := []struct {
		name, path, token string
		want              int64
	}{
		{"my-modules admin", "/access/my-modules", w.admin.Token, 3},
		{"my-modules student (module link)", "/access/my-modules", w.studentMod.Token, 3},
		{"my-modules student (subject link)", "/access/my-modules", w.studentSubj.Token, 3},
		{"my-modules teacher", "/access/my-modules", w.teacher.Token, 4},
		{"my-modules/{id} student", m1, w.studentMod.Token, 4},
		{"my-modules/{id} teacher", m1, w.teacher.Token, 4},
		{"admin-modules", "/access/admin-modules", w.admin.Token, 3},
		{"teacher-modules teacher", "/access/teacher-modules", w.teacher.Token, 4},
		{"teacher-subjects admin", "/access/teacher-subjects", w.admin.Token, 2},
		{"access-overview", "/access/access-overview", w.admin.Token, 4},
		{"lessons/{id} student", fmt.Sprintf("/access/lessons/%d", w.l1), w.studentMod.Token, 6},
	}
	measure := func(t *testing.T, round string) {
		for _, tc := range cases {
			if got := get(t, tc.path, tc.token); got != tc.want {
				t.Errorf("%s (%s): %d queries, want %d", tc.name, round, got, tc.want)
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

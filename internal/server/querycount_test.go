package server_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// TestAdminQueryCounts checks the counts the admin list endpoints promise
// (one query per level, whatever the data size), through the whole server.
// The counts are besides authentication's user lookup, which is added.
func TestAdminQueryCounts(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	group := env.ID(t, `INSERT INTO groups (name) VALUES ('Г') RETURNING id`)
	grow := func(n int) {
		for i := range n {
			teacher := env.User(t, auth.Teacher)
			student := env.User(t, auth.Student)
			env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, student.ID, group)
			g := env.ID(t, `INSERT INTO groups (name) VALUES ($1) RETURNING id`, fmt.Sprintf("Г%d-%d", n, i))
			env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, student.ID, g)
			m := env.ID(t, `INSERT INTO modules (title) VALUES ('М') RETURNING id`)
			for range 2 {
				s := env.ID(t, `INSERT INTO subjects (module_id, title, teacher_id) VALUES ($1, 'С', $2) RETURNING id`, m, teacher.ID)
				env.Exec(t, `INSERT INTO lessons (subject_id, title, type, content_url)
					SELECT $1, 'Л', 'video', 'u' FROM generate_series(1, 3)`, s)
			}
		}
	}
	cases := []struct {
		path string
		want int64
	}{
		{"/admin/users/", 1},
		{"/admin/groups/", 1},
		{fmt.Sprintf("/admin/groups/%d/users", group), 2},
		// Per chunk of 50 modules (issue 20: read and written a chunk at a time).
		{"/admin/modules/", 4},
		{"/admin/modules/with-teachers", 5},
	}
	for _, n := range []int{1, 10} {
		grow(n)
		for _, tc := range cases {
			got := env.Queries(func() { env.Do(t, "GET", tc.path, admin, nil).Status(t, 200) })
			if want := apitest.AuthQueries + tc.want; got != want {
				t.Errorf("GET %s after growing by %d: %d queries, want %d", tc.path, n, got, want)
			}
		}
	}
}

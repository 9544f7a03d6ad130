package admin_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// Issue 20: the lists ordered by id take ?after_id= (a keyset): the page
// holds the items with a larger id, in order, and reading it does not walk
// the rows before it the way a deep OFFSET does.
func TestListsKeyset(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	env.Exec(t, `INSERT INTO users (iin, full_name, hashed_password, role)
SELECT lpad((900000000000 + i)::text, 12, '0'), 'U' || i, 'x', 'student' FROM generate_series(1, 3000) i`)
	env.Exec(t, `INSERT INTO groups (name) SELECT 'G' || i FROM generate_series(1, 30) i`)
	env.Exec(t, `INSERT INTO modules (title) SELECT 'M' || i FROM generate_series(1, 30) i`)
	env.Exec(t, `ANALYZE users; ANALYZE groups; ANALYZE modules`)

	for _, c := range []struct{ path, table string }{
		{"/admin/users/", "users"}, {"/admin/groups/", "groups"},
		{"/admin/modules/", "modules"}, {"/admin/modules/with-teachers", "modules"},
		{"/access/access-overview", "modules"},
	} {
		ids := allIDs(t, env, c.table)
		after := ids[len(ids)-6]
		page := items(t, env.Do(t, "GET", fmt.Sprintf("%s?after_id=%d&limit=3", c.path, after), admin, nil).Status(t, 200), c.path)
		if got := itemIDs(page, c.path); fmt.Sprint(got) != fmt.Sprint(ids[len(ids)-5:len(ids)-2]) {
			t.Errorf("%s after %d: ids %v, want %v", c.path, after, got, ids[len(ids)-5:len(ids)-2])
		}
		// With offset: skipped after the keyset.
		page = items(t, env.Do(t, "GET", fmt.Sprintf("%s?after_id=%d&offset=4", c.path, after), admin, nil).Status(t, 200), c.path)
		if got := itemIDs(page, c.path); fmt.Sprint(got) != fmt.Sprint(ids[len(ids)-1:]) {
			t.Errorf("%s after %d offset 4: ids %v, want the last", c.path, after, got)
		}
		env.Do(t, "GET", c.path+"?after_id=-1", admin, nil).Status(t, 422)
		env.Do(t, "GET", c.path+"?after_id=x", admin, nil).Status(t, 422)
	}

	// The last users by keyset read a handful of rows, not the 3,000 before them.
	last := env.ID(t, `SELECT max(id) FROM users`)
	before := env.RowsRead(t, "users", 0)
	env.Do(t, "GET", fmt.Sprintf("/admin/users/?after_id=%d&limit=50", last-10), admin, nil).Status(t, 200)
	if read := env.RowsRead(t, "users", before+1) - before; read > 100 {
		t.Errorf("a keyset page near the end read %d users rows", read)
	}
}

// allIDs is every id of table, in order.
func allIDs(t *testing.T, env *apitest.Env, table string) []int32 {
	rows, err := env.Pool.Query(t.Context(), `SELECT id FROM `+table+` ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// items is the list of a list response (the overview's is its "modules").
func items(t *testing.T, res *apitest.Response, path string) []any {
	if path == "/access/access-overview" {
		return res.Map(t)["modules"].([]any)
	}
	return res.List(t)
}

// itemIDs is the "id" of each item of a list response.
func itemIDs(items []any, path string) []int32 {
	ids := make([]int32, len(items))
	for i, it := range items {
		m := it.(map[string]any)
		key := "id"
		if path == "/access/access-overview" {
			key = "module_id"
		}
		ids[i] = int32(m[key].(float64))
	}
	return ids
}

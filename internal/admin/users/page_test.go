package users_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
	"platform/internal/web"
)

// Issue 20: a page of GET /admin/users/ is cut in SQL (LIMIT/OFFSET on the
// primary key), so it reads the page's rows, not the whole table.
func TestListUsersPagedInSQL(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	env.Exec(t, `INSERT INTO users (full_name, iin, role, hashed_password)
SELECT 'U' || i, '5' || lpad(i::text, 11, '0'), 'student', 'x' FROM generate_series(1, 20000) i`)
	env.Exec(t, `ANALYZE users`)
	var ids []int32
	n := env.Count(t, `SELECT count(*) FROM users`)
	// The expected page, read through the index (reading the whole table
	// here would land in the statistics the test compares).
	rows, err := env.Pool.Query(t.Context(), `SELECT id FROM users ORDER BY id LIMIT 105`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int32
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()

	before := env.RowsRead(t, "users", 0)
	page := env.Do(t, "GET", "/admin/users/?limit=5&offset=100", admin, nil).Status(t, 200).List(t)
	read := env.RowsRead(t, "users", before+1) - before
	if len(page) != 5 {
		t.Fatalf("page of %d", len(page))
	}
	for i, u := range page {
		if got := int32(u.(map[string]any)["id"].(float64)); got != ids[100+i] {
			t.Fatalf("item %d: id %d, want %d", i, got, ids[100+i])
		}
	}
	// The page reads ~105 rows by the primary key (and authentication one).
	if read > 1000 { // a whole-table read is 20,000
		t.Errorf("one page read %d users rows of %d", read, n)
	}

	all := env.Do(t, "GET", "/admin/users/", admin, nil).Status(t, 200).List(t)
	// Without limit: everything, up to the hard maximum (web.MaxList).
	if len(all) != min(n, web.MaxList) || int32(all[104].(map[string]any)["id"].(float64)) != ids[104] {
		t.Fatalf("full list: %d of %d", len(all), n)
	}
	if got := env.Do(t, "GET", fmt.Sprintf("/admin/users/?offset=%d", n), admin, nil).Status(t, 200).List(t); len(got) != 0 {
		t.Fatalf("past the end: %v", got)
	}
}

package modules_test

import (
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// Issue 20: a page of the module lists is cut in SQL, and only the page's
// subjects and lessons are read; without limit every module comes, in
// order, read in chunks.
func TestModuleListsPagedInSQL(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	teacher := env.User(t, auth.Teacher)
	// 120 modules × 2 subjects × 3 lessons (more than two chunks of 50).
	env.Exec(t, `INSERT INTO modules (title) SELECT 'M' || i FROM generate_series(1, 120) i`)
	env.Exec(t, `INSERT INTO subjects (module_id, title, teacher_id) SELECT m.id, 'S' || k, $1 FROM modules m, generate_series(1, 2) k`, teacher.ID)
	env.Exec(t, `INSERT INTO lessons (subject_id, title, type, content_url) SELECT s.id, 'L' || k, 'video', 'u' FROM subjects s, generate_series(1, 3) k`)
	// A district's proportions for the planner: many more lessons elsewhere.
	env.Exec(t, `INSERT INTO modules (title) VALUES ('big')`)
	env.Exec(t, `INSERT INTO subjects (module_id, title) SELECT max(id), 'B' FROM modules`)
	env.Exec(t, `INSERT INTO lessons (subject_id, title, type, content_url) SELECT (SELECT max(id) FROM subjects), 'B', 'video', 'u' FROM generate_series(1, 20000)`)
	env.Exec(t, `ANALYZE modules; ANALYZE subjects; ANALYZE lessons`)
	first := env.ID(t, `SELECT min(id) FROM modules`)

	for _, path := range []string{"/admin/modules/", "/admin/modules/with-teachers"} {
		before := env.RowsRead(t, "lessons", 0)
		page := env.Do(t, "GET", path+"?limit=2&offset=7", admin, nil).Status(t, 200).List(t)
		read := env.RowsRead(t, "lessons", before+1) - before
		if len(page) != 2 {
			t.Fatalf("%s: page of %d", path, len(page))
		}
		for i, m := range page {
			mod := m.(map[string]any)
			if got := int32(mod["id"].(float64)); got != first+7+int32(i) {
				t.Fatalf("%s: module %d, want %d", path, got, first+7+int32(i))
			}
			subjects := mod["subjects"].([]any)
			if len(subjects) != 2 || len(subjects[0].(map[string]any)["lessons"].([]any)) != 3 {
				t.Fatalf("%s: subjects %v", path, subjects)
			}
			if path == "/admin/modules/with-teachers" && subjects[0].(map[string]any)["teacher"].(map[string]any)["id"] != float64(teacher.ID) {
				t.Fatalf("teacher %v", subjects[0])
			}
		}
		if read > 12*2 { // the page holds 12 lessons of 20,720
			t.Errorf("%s: one page read %d lessons rows", path, read)
		}

		all := env.Do(t, "GET", path, admin, nil).Status(t, 200).List(t)
		if len(all) != 121 {
			t.Fatalf("%s: full list of %d", path, len(all))
		}
		for i, m := range all {
			if got := int32(m.(map[string]any)["id"].(float64)); got != first+int32(i) {
				t.Fatalf("%s: item %d is module %d", path, i, got)
			}
		}
	}
}

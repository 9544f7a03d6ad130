package access_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
	"platform/internal/catalog"
)

// encodeLikeWeb is what web.JSON writes for v.
func encodeLikeWeb(t *testing.T, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// rawGet is the body of a 200 GET, byte for byte.
func rawGet(t *testing.T, env *apitest.Env, path string, as apitest.User) string {
	t.Helper()
	req, err := http.NewRequest("GET", env.Server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+as.Token)
	res, err := env.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	if cl := res.Header.Get("Content-Length"); cl != fmt.Sprint(len(b)) {
		t.Fatalf("GET %s: Content-Length %q for %d bytes", path, cl, len(b))
	}
	return string(b)
}

// TestTreeCacheSeesEveryWrite: two instances on one database, both with
// warm caches; after each kind of write — raw SQL as the original
// application or psql would do it, and API calls on one instance — the
// next read on both instances is byte for byte what an uncached load of
// the database gives at that moment (catalog.Modules, encoded as web.JSON
// encodes it), for every kind of viewer.
func TestTreeCacheSeesEveryWrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	a := w.env
	b := a.Twin(t)
	ctx := context.Background()
	viewer := func(u apitest.User) *auth.User { return &auth.User{ID: u.ID, Role: u.Role} }
	teacherModules := func() []int32 {
		var ids []int32
		rows, err := a.Pool.Query(ctx, `
			SELECT id FROM modules m WHERE EXISTS (SELECT 1 FROM subjects s WHERE s.module_id = m.id AND s.teacher_id = $1)
			OR EXISTS (SELECT 1 FROM teacher_module tm WHERE tm.module_id = m.id AND tm.teacher_id = $1)
			OR EXISTS (SELECT 1 FROM user_group ug JOIN module_group mg ON mg.group_id = ug.group_id WHERE ug.user_id = $1 AND mg.module_id = m.id)
			OR EXISTS (SELECT 1 FROM user_group ug JOIN subject_group sg ON sg.group_id = ug.group_id
			           JOIN subjects s ON s.id = sg.subject_id WHERE ug.user_id = $1 AND s.module_id = m.id)
			ORDER BY id`, w.teacher.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int32
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return ids
	}
	type read struct {
		name, path string
		as         apitest.User
		want       func() any // the uncached answer now
	}
	modules := func(f catalog.Filter) func() any {
		return func() any {
			ms, err := catalog.Modules(ctx, a.Pool, f)
			if err != nil {
				t.Fatal(err)
			}
			return ms
		}
	}
	module := func(id int32, f catalog.Filter) func() any {
		return func() any {
			m, err := catalog.ModuleByID(ctx, a.Pool, id, f)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	reads := []read{
		{"admin my-modules", "/access/my-modules", w.admin, modules(catalog.Filter{Viewer: viewer(w.admin)})},
		{"student (module link) my-modules", "/access/my-modules", w.studentMod, modules(catalog.Filter{Viewer: viewer(w.studentMod)})},
		{"student (subject link) my-modules", "/access/my-modules", w.studentSubj, modules(catalog.Filter{Viewer: viewer(w.studentSubj)})},
		{"student (no link) my-modules", "/access/my-modules", w.studentNone, modules(catalog.Filter{Viewer: viewer(w.studentNone)})},
		{"teacher my-modules", "/access/my-modules", w.teacher, func() any {
			return modules(catalog.Filter{Viewer: viewer(w.teacher), ModuleIDs: append([]int32{}, teacherModules()...)})()
		}},
		{"student my-modules/{m1} with results", fmt.Sprintf("/access/my-modules/%d", w.m1), w.studentMod,
			module(w.m1, catalog.Filter{Viewer: viewer(w.studentMod), ResultsFor: w.studentMod.ID})},
		{"admin-modules", "/access/admin-modules", w.admin, modules(catalog.Filter{})},
	}
	check := func(t *testing.T, after string) {
		t.Helper()
		for _, rd := range reads {
			want := encodeLikeWeb(t, rd.want())
			for i, env := range []*apitest.Env{a, b} {
				if got := rawGet(t, env, rd.path, rd.as); got != want {
					t.Errorf("after %s, instance %d, %s:\n got %s\nwant %s", after, i, rd.name, got, want)
				}
			}
		}
	}
	check(t, "nothing") // warms both instances

	var newLesson, newModule int32
	writes := []struct {
		name string
		do   func(t *testing.T)
	}{
		{"SQL: module title", func(t *testing.T) {
			a.Exec(t, `UPDATE modules SET title = 'Модуль «1» <новый> & "\' WHERE id = $1`, w.m1)
		}},
		{"SQL: module description and course", func(t *testing.T) {
			a.Exec(t, `UPDATE modules SET description = E'строка\nвторая\u2028', course = NULL WHERE id = $1`, w.m1)
		}},
		{"SQL: new subject", func(t *testing.T) {
			a.Exec(t, `INSERT INTO subjects (title, module_id) VALUES ('Биология', $1)`, w.m1)
		}},
		{"SQL: subject title", func(t *testing.T) { a.Exec(t, `UPDATE subjects SET title = 'Алгебра' WHERE id = $1`, w.s1) }},
		{"SQL: subject teacher", func(t *testing.T) { a.Exec(t, `UPDATE subjects SET teacher_id = $2 WHERE id = $1`, w.s1b, w.other.ID) }},
		{"SQL: new lesson", func(t *testing.T) {
			newLesson = a.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'Новый', 'pdf', '/f') RETURNING id`, w.s1)
		}},
		{"SQL: lesson content", func(t *testing.T) {
			a.Exec(t, `UPDATE lessons SET content_url = 'https://v2', description = 'd' WHERE id = $1`, w.l1)
		}},
		{"SQL: result (uncached)", func(t *testing.T) {
			a.Exec(t, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, 66.67, now())`, w.studentMod.ID, w.l1)
		}},
		{"SQL: lesson moved to another module", func(t *testing.T) { a.Exec(t, `UPDATE lessons SET subject_id = $2 WHERE id = $1`, w.l1b, w.s2) }},
		{"SQL: subject moved to another module", func(t *testing.T) { a.Exec(t, `UPDATE subjects SET module_id = $2 WHERE id = $1`, w.s1b, w.m4) }},
		{"SQL: lesson deleted", func(t *testing.T) { a.Exec(t, `DELETE FROM lessons WHERE id = $1`, newLesson) }},
		{"SQL: module link", func(t *testing.T) {
			a.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, w.m2, w.g1)
		}},
		{"SQL: subject link", func(t *testing.T) {
			a.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, w.s4, w.g2)
		}},
		{"SQL: subject unlinked", func(t *testing.T) {
			a.Exec(t, `DELETE FROM subject_group WHERE group_id = $1 AND subject_id = $2`, w.g2, w.s1)
		}},
		{"SQL: membership", func(t *testing.T) {
			a.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, w.studentNone.ID, w.g1)
		}},
		{"SQL: membership ended", func(t *testing.T) {
			a.Exec(t, `DELETE FROM user_group WHERE user_id = $1 AND group_id = $2`, w.studentNone.ID, w.g1)
		}},
		{"SQL: new module", func(t *testing.T) {
			newModule = a.ID(t, `INSERT INTO modules (title) VALUES ('Пятый') RETURNING id`)
			a.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, newModule, w.g1)
		}},
		{"SQL: teacher_module", func(t *testing.T) {
			a.Exec(t, `INSERT INTO teacher_module (module_id, teacher_id) VALUES ($1, $2)`, newModule, w.teacher.ID)
		}},
		{"API on one instance: module update", func(t *testing.T) {
			a.Do(t, "PUT", fmt.Sprintf("/admin/modules/%d", w.m2), w.admin, map[string]any{"title": "Через API", "description": nil}).Status(t, 200)
		}},
		{"API on the other instance: new subject", func(t *testing.T) {
			b.Do(t, "POST", fmt.Sprintf("/admin/modules/%d/subjects", w.m2), w.admin, map[string]any{"title": "Геометрия"}).Status(t, 200)
		}},
		{"API: group to module", func(t *testing.T) {
			a.Do(t, "POST", "/access/admin/group-to-module", w.admin, map[string]any{"group_id": w.g2, "module_id": w.m4}).Status(t, 200)
		}},
		{"API: teacher to subject", func(t *testing.T) {
			b.Do(t, "POST", "/access/admin/teacher-to-subject", w.admin,
				map[string]any{"teacher_iin": w.teacher.IIN, "module_id": w.m2, "subject_id": w.s2}).Status(t, 200)
		}},
		{"API: module deleted", func(t *testing.T) {
			a.Do(t, "DELETE", fmt.Sprintf("/admin/modules/%d", newModule), w.admin, nil).Status(t, 200)
		}},
		{"SQL: TRUNCATE lessons", func(t *testing.T) { a.Exec(t, `TRUNCATE lessons CASCADE`) }},
	}
	for _, wr := range writes {
		wr.do(t)
		check(t, wr.name)
		if t.Failed() {
			return
		}
	}
}

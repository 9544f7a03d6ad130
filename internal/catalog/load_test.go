package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
	"platform/internal/catalog"
	"platform/internal/db"
	"platform/internal/testdb"
)

func id(t *testing.T, pool db.DBTX, sql string, args ...any) int32 {
	t.Helper()
	var v int32
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func user(t *testing.T, pool db.DBTX, role auth.Role) auth.User {
	t.Helper()
	n := id(t, pool, `SELECT count(*)::int FROM users`)
	uid := id(t, pool, `INSERT INTO users (full_name, iin, role, hashed_password) VALUES ($1, $2, $3, 'x') RETURNING id`,
		fmt.Sprintf("User %d", n), fmt.Sprintf("%012d", n+1), string(role))
	return auth.User{ID: uid, Role: role}
}

// tree seeds n modules, each with two subjects of two lessons.
func tree(t *testing.T, pool db.DBTX, n int) (modules, subjects, lessons []int32) {
	t.Helper()
	for i := range n {
		m := id(t, pool, `INSERT INTO modules (title, course, created_at) VALUES ($1, '1', '2025-06-01 06:00:00') RETURNING id`, fmt.Sprintf("M%d", i))
		modules = append(modules, m)
		for j := range 2 {
			s := id(t, pool, `INSERT INTO subjects (title, module_id) VALUES ($1, $2) RETURNING id`, fmt.Sprintf("S%d.%d", i, j), m)
			subjects = append(subjects, s)
			for k := range 2 {
				lessons = append(lessons, id(t, pool,
					`INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, $2, 'video', 'u') RETURNING id`, s, fmt.Sprintf("L%d", k)))
			}
		}
	}
	return modules, subjects, lessons
}

func TestModulesShapeAndLatestResult(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	modules, subjects, lessons := tree(t, pool, 2)
	u := user(t, pool, auth.Student)
	other := user(t, pool, auth.Student)
	// Lesson 0: the later submitted_at wins over a higher id; a NULL time ranks last.
	early := id(t, pool, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, 10, '2025-01-02Z') RETURNING id`, u.ID, lessons[0])
	late := id(t, pool, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, 20, '2025-01-03Z') RETURNING id`, u.ID, lessons[0])
	id(t, pool, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, 30, NULL) RETURNING id`, u.ID, lessons[0])
	_ = early
	// Lesson 1: same time, the higher id wins.
	id(t, pool, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, 40, '2025-01-02Z') RETURNING id`, u.ID, lessons[1])
	tie := id(t, pool, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, 50, '2025-01-02Z') RETURNING id`, u.ID, lessons[1])
	// Another user's result never shows.
	id(t, pool, `INSERT INTO results (user_id, lesson_id, score) VALUES ($1, $2, 60) RETURNING id`, other.ID, lessons[2])

	got, err := catalog.Modules(ctx, pool, catalog.Filter{ResultsFor: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != modules[0] || got[1].ID != modules[1] {
		t.Fatalf("modules %+v", got)
	}
	m := got[0]
	if m.Title != "M0" || m.Course == nil || *m.Course != "1" || m.Description != nil || m.CreatedAt == nil {
		t.Fatalf("module %+v", m.ModuleBrief)
	}
	if len(m.Subjects) != 2 || m.Subjects[0].ID != subjects[0] || m.Subjects[1].ID != subjects[1] || m.Subjects[0].ModuleID != m.ID {
		t.Fatalf("subjects %+v", m.Subjects)
	}
	ls := m.Subjects[0].Lessons
	if len(ls) != 2 || ls[0].ID != lessons[0] || ls[1].ID != lessons[1] {
		t.Fatalf("lessons %+v", ls)
	}
	if ls[0].Result == nil || ls[0].Result.ID != late {
		t.Fatalf("lesson 0 result %+v, want %d", ls[0].Result, late)
	}
	if ls[1].Result == nil || ls[1].Result.ID != tie {
		t.Fatalf("lesson 1 result %+v, want %d", ls[1].Result, tie)
	}
	if r := m.Subjects[1].Lessons[0].Result; r != nil {
		t.Fatalf("other user's result shown: %+v", r)
	}

	// Without ResultsFor every result is null.
	plain, err := catalog.ModuleByID(ctx, pool, modules[0], catalog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Subjects[0].Lessons[0].Result != nil {
		t.Fatal("result without ResultsFor")
	}
	if _, err := catalog.ModuleByID(ctx, pool, 0, catalog.Filter{}); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("missing module: %v", err)
	}
}

func TestModulesStudentVisibility(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	modules, subjects, _ := tree(t, pool, 3)
	byModule := user(t, pool, auth.Student)
	bySubject := user(t, pool, auth.Student)
	outsider := user(t, pool, auth.Student)
	teacher := user(t, pool, auth.Teacher)
	g1 := id(t, pool, `INSERT INTO groups (name) VALUES ('g1') RETURNING id`)
	g2 := id(t, pool, `INSERT INTO groups (name) VALUES ('g2') RETURNING id`)
	id(t, pool, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2) RETURNING user_id`, byModule.ID, g1)
	id(t, pool, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2) RETURNING user_id`, bySubject.ID, g2)
	id(t, pool, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2) RETURNING module_id`, modules[0], g1)
	id(t, pool, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2) RETURNING subject_id`, subjects[3], g2)
	// A module-linked empty module is readable (with no subjects).
	empty := id(t, pool, `INSERT INTO modules (title) VALUES ('empty') RETURNING id`)
	id(t, pool, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2) RETURNING module_id`, empty, g1)

	shape := func(ms []catalog.Module) map[int32][]int32 {
		out := map[int32][]int32{}
		for _, m := range ms {
			out[m.ID] = []int32{}
			for _, s := range m.Subjects {
				out[m.ID] = append(out[m.ID], s.ID)
			}
		}
		return out
	}
	tests := []struct {
		name   string
		viewer *auth.User
		want   map[int32][]int32
	}{
		{"module link: all subjects", &byModule, map[int32][]int32{modules[0]: {subjects[0], subjects[1]}, empty: {}}},
		{"subject link: that subject only", &bySubject, map[int32][]int32{modules[1]: {subjects[3]}}},
		{"no link: nothing", &outsider, map[int32][]int32{}},
		{"teacher: everything", &teacher, map[int32][]int32{
			modules[0]: subjects[0:2], modules[1]: subjects[2:4], modules[2]: subjects[4:6], empty: {}}},
		{"no viewer: everything", nil, map[int32][]int32{
			modules[0]: subjects[0:2], modules[1]: subjects[2:4], modules[2]: subjects[4:6], empty: {}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := catalog.Modules(ctx, pool, catalog.Filter{Viewer: tc.viewer})
			if err != nil {
				t.Fatal(err)
			}
			if g := fmt.Sprint(shape(got)); g != fmt.Sprint(tc.want) {
				t.Fatalf("got %s, want %s", g, fmt.Sprint(tc.want))
			}
		})
	}
	if _, err := catalog.ModuleByID(ctx, pool, modules[2], catalog.Filter{Viewer: &bySubject}); !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("unreadable module: %v", err)
	}
}

func TestLoadersQueryCountIsFixed(t *testing.T) {
	t.Parallel()
	env := apitest.New(t) // for its pool's query count
	pool := env.Pool
	ctx := context.Background()
	student := user(t, pool, auth.Student)
	g := id(t, pool, `INSERT INTO groups (name) VALUES ('g') RETURNING id`)
	id(t, pool, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2) RETURNING user_id`, student.ID, g)

	loads := []struct {
		name string
		want int64
		load func(q db.DBTX) error
	}{
		{"Modules with results", 4, func(q db.DBTX) error {
			_, err := catalog.Modules(ctx, q, catalog.Filter{Viewer: &student, ResultsFor: student.ID})
			return err
		}},
		{"Modules without results", 3, func(q db.DBTX) error {
			_, err := catalog.Modules(ctx, q, catalog.Filter{})
			return err
		}},
		{"Subjects with results", 3, func(q db.DBTX) error {
			_, err := catalog.Subjects(ctx, q, catalog.SubjectFilter{ResultsFor: student.ID})
			return err
		}},
	}
	// The count must be the same with 1 module as with 15 (60 lessons).
	for _, size := range []int{1, 14} {
		modules, _, lessons := tree(t, pool, size)
		for _, m := range modules {
			id(t, pool, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2) RETURNING module_id`, m, g)
		}
		for _, l := range lessons {
			id(t, pool, `INSERT INTO results (user_id, lesson_id, score) VALUES ($1, $2, 1) RETURNING id`, student.ID, l)
		}
		for _, tc := range loads {
			var err error
			if got := env.Queries(func() { err = tc.load(pool) }); err != nil {
				t.Fatal(err)
			} else if got != tc.want {
				t.Errorf("%s with %d more modules: %d queries, want %d", tc.name, size, got, tc.want)
			}
		}
	}
}

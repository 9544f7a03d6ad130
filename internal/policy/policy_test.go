package policy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/policy"
	"platform/internal/testdb"
)

func id(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int32 {
	t.Helper()
	var n int32
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// The rules of API.md §0.6 on one seeded course: module m1 (subjects s1
// taught by teacher, s2 without a teacher) is linked to group g1; module m2
// has s3, linked alone to group g2 (subject_group), and s4, linked to nobody.
func TestRules(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	user := func(role auth.Role, iin string) auth.User {
		return auth.User{Role: role, IIN: iin, ID: id(t, pool,
			`INSERT INTO users (full_name, iin, role, hashed_password) VALUES ('U', $1, $2, 'x') RETURNING id`, iin, string(role))}
	}
	admin, teacher, other := user(auth.Admin, "000000000001"), user(auth.Teacher, "000000000002"), user(auth.Teacher, "000000000003")
	inModule, inSubject, inBoth, alone := user(auth.Student, "000000000004"), user(auth.Student, "000000000005"),
		user(auth.Student, "000000000006"), user(auth.Student, "000000000007")
	inEmpty := user(auth.Student, "000000000008") // in g3 only: m3 has no subjects

	m1 := id(t, pool, `INSERT INTO modules (title) VALUES ('m1') RETURNING id`)
	m2 := id(t, pool, `INSERT INTO modules (title) VALUES ('m2') RETURNING id`)
	m3 := id(t, pool, `INSERT INTO modules (title) VALUES ('m3') RETURNING id`)
	subject := func(module int32, teacher *int32) policy.Subject {
		return policy.Subject{ModuleID: module, TeacherID: teacher, ID: id(t, pool,
			`INSERT INTO subjects (module_id, teacher_id, title) VALUES ($1, $2, 's') RETURNING id`, module, teacher)}
	}
	s1, s2 := subject(m1, &teacher.ID), subject(m1, nil)
	s3, s4 := subject(m2, &other.ID), subject(m2, &teacher.ID)
	g1 := id(t, pool, `INSERT INTO groups (name) VALUES ('g1') RETURNING id`)
	g2 := id(t, pool, `INSERT INTO groups (name) VALUES ('g2') RETURNING id`)
	g3 := id(t, pool, `INSERT INTO groups (name) VALUES ('g3') RETURNING id`) // linked to m3, alone is not in it
	for _, q := range [][3]any{
		{`INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, m1, g1},
		{`INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, m3, g3},
		{`INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, s3.ID, g2},
		{`INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, inModule.ID, g1},
		{`INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, inSubject.ID, g2},
		{`INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, inBoth.ID, g1},
		{`INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, inBoth.ID, g2},
		{`INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, inEmpty.ID, g3},
	} {
		if _, err := pool.Exec(ctx, q[0].(string), q[1], q[2]); err != nil {
			t.Fatal(err)
		}
	}

	subjects := []policy.Subject{s1, s2, s3, s4}
	cases := []struct {
		name     string
		u        auth.User
		manage   []bool // s1..s4
		read     []bool // s1..s4
		modules  []bool // m1, m2, m3
		readable []int32
	}{
		{"admin", admin, []bool{true, true, true, true}, []bool{true, true, true, true}, []bool{true, true, true}, nil},
		{"teacher of s1, s4", teacher, []bool{true, false, false, true}, []bool{true, true, true, true}, []bool{true, true, true}, nil},
		{"teacher of s3", other, []bool{false, false, true, false}, []bool{true, true, true, true}, []bool{true, true, true}, nil},
		{"student, module-linked", inModule, []bool{false, false, false, false}, []bool{true, true, false, false}, []bool{true, false, false}, []int32{s1.ID, s2.ID}},
		{"student, subject-linked", inSubject, []bool{false, false, false, false}, []bool{false, false, true, false}, []bool{false, true, false}, []int32{s3.ID}},
		{"student, both", inBoth, []bool{false, false, false, false}, []bool{true, true, true, false}, []bool{true, true, false}, []int32{s1.ID, s2.ID, s3.ID}},
		{"student, module without subjects", inEmpty, []bool{false, false, false, false}, []bool{false, false, false, false}, []bool{false, false, true}, []int32{}},
		{"student, no group", alone, []bool{false, false, false, false}, []bool{false, false, false, false}, []bool{false, false, false}, []int32{}},
	}
	for _, c := range cases {
		for i, s := range subjects {
			if got := policy.CanManage(c.u, s); got != c.manage[i] {
				t.Errorf("%s: CanManage(s%d) = %v", c.name, i+1, got)
			}
			got, err := policy.CanReadSubject(ctx, pool, c.u, s)
			if err != nil || got != c.read[i] {
				t.Errorf("%s: CanReadSubject(s%d) = %v, %v", c.name, i+1, got, err)
			}
		}
		for i, m := range []int32{m1, m2, m3} {
			got, err := policy.CanReadModule(ctx, pool, c.u, m)
			if err != nil || got != c.modules[i] {
				t.Errorf("%s: CanReadModule(m%d) = %v, %v", c.name, i+1, got, err)
			}
		}
		if c.u.Role != auth.Student {
			continue
		}
		// The relation itself lists exactly the readable subjects and modules.
		rows, _ := pool.Query(ctx, `SELECT DISTINCT subject_id FROM `+policy.StudentReads+` r
			WHERE r.user_id = $1 AND r.subject_id IS NOT NULL ORDER BY 1`, c.u.ID)
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil || !slices.Equal(ids, c.readable) {
			t.Errorf("%s: StudentReads subjects = %v, %v; want %v", c.name, ids, err, c.readable)
		}
		var wantModules []int32
		for i, m := range []int32{m1, m2, m3} {
			if c.modules[i] {
				wantModules = append(wantModules, m)
			}
		}
		rows, _ = pool.Query(ctx, `SELECT DISTINCT module_id FROM `+policy.StudentReads+` r WHERE r.user_id = $1 ORDER BY 1`, c.u.ID)
		mods, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil || !slices.Equal(mods, wantModules) {
			t.Errorf("%s: StudentReads modules = %v, %v; want %v", c.name, mods, err, wantModules)
		}
	}

	// Lookups: the subject of a lesson and of a test; a missing row is ErrNotFound.
	lesson := id(t, pool, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'l', 'video', 'u') RETURNING id`, s3.ID)
	test := id(t, pool, `INSERT INTO tests (title, subject_id) VALUES ('t', $1) RETURNING id`, s1.ID)
	if got, err := policy.LoadSubject(ctx, pool, s1.ID); err != nil || got.ID != s1.ID || got.ModuleID != m1 || *got.TeacherID != teacher.ID {
		t.Errorf("LoadSubject = %+v, %v", got, err)
	}
	if got, err := policy.LessonSubject(ctx, pool, lesson); err != nil || got.ID != s3.ID || got.ModuleID != m2 {
		t.Errorf("LessonSubject = %+v, %v", got, err)
	}
	if got, err := policy.TestSubject(ctx, pool, test); err != nil || got.ID != s1.ID {
		t.Errorf("TestSubject = %+v, %v", got, err)
	}
	for name, err := range map[string]error{
		"LoadSubject":   second(policy.LoadSubject(ctx, pool, 0)),
		"LessonSubject": second(policy.LessonSubject(ctx, pool, 0)),
		"TestSubject":   second(policy.TestSubject(ctx, pool, 0)),
	} {
		if !errors.Is(err, policy.ErrNotFound) {
			t.Errorf("%s(missing) = %v, want ErrNotFound", name, err)
		}
	}
}

func second(_ policy.Subject, err error) error { return err }

// RequireManage: 404 for a missing row, other errors as they are, then 403
// for a subject the user does not manage, nil for one they do.
func TestRequireManage(t *testing.T) {
	t.Parallel()
	teacherID := int32(7)
	s := policy.Subject{ID: 1, ModuleID: 2, TeacherID: &teacherID}
	teacher, other := auth.User{ID: 7, Role: auth.Teacher}, auth.User{ID: 8, Role: auth.Teacher}
	boom := errors.New("boom")
	for _, c := range []struct {
		name string
		u    auth.User
		err  error
		kind apperr.Kind
		want string // detail, or "" for nil / boom
	}{
		{"missing", teacher, policy.ErrNotFound, apperr.KindNotFound, "Урок не найден"},
		{"missing wrapped", other, fmt.Errorf("x: %w", policy.ErrNotFound), apperr.KindNotFound, "Урок не найден"},
		{"other error", teacher, boom, 0, ""},
		{"not managed", other, nil, apperr.KindForbidden, "Нет доступа"},
		{"student", auth.User{ID: 7, Role: auth.Student}, nil, apperr.KindForbidden, "Нет доступа"},
		{"managed", teacher, nil, 0, ""},
		{"admin", auth.User{ID: 1, Role: auth.Admin}, nil, 0, ""},
	} {
		err := policy.RequireManage(c.u, s, c.err, "Урок не найден", "Нет доступа")
		switch e, ok := apperr.As(err); {
		case c.want != "":
			if !ok || e.Kind != c.kind || e.Detail != c.want {
				t.Errorf("%s: got %v, want %s", c.name, err, c.want)
			}
		case c.err != nil:
			if !errors.Is(err, boom) {
				t.Errorf("%s: got %v, want boom", c.name, err)
			}
		case err != nil:
			t.Errorf("%s: got %v, want nil", c.name, err)
		}
	}
}

package purge_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"platform/internal/purge"
	"platform/internal/testdb"
)

// course is a seeded database with every kind of dependent row of API.md §0.8.
//
//	module m (module_group g, teacher_module teacher) → subject s (teacher, subject_group g)
//	  lesson l (doc shared with l2 of s2, submissions of student with files,
//	            a result of quiz q2 of s2, which is linked to l)
//	  lesson lOwn (its own doc), quiz q (questions, options, results of student and other)
//	module m2 → subject s2 (teacher other) → lesson l2, quiz q2 linked to l
//	student: photo, group g, login_attempts row; other: a second student
type course struct {
	pool                      *pgxpool.Pool
	student, other, teacher   int32
	m, m2, s, s2, l, lOwn, l2 int32
	g                         int32
	q, q2                     int32
	sub, sub2                 int32 // student's submissions of l (two files, one empty path) and lOwn
}

func seed(t *testing.T) *course {
	t.Helper()
	c := &course{pool: testdb.New(t)}
	id := func(sql string, args ...any) int32 {
		t.Helper()
		var n int32
		if err := c.pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	user := func(iin, role string, photo *string) int32 {
		return id(`INSERT INTO users (full_name, iin, role, hashed_password, photo) VALUES ('U', $1, $2, 'x', $3) RETURNING id`, iin, role, photo)
	}
	photo := "static/photos/1_abc.png"
	c.student = user("000000000001", "student", &photo)
	c.other = user("000000000002", "student", nil)
	c.teacher = user("000000000003", "teacher", nil)
	otherTeacher := user("000000000004", "teacher", nil)
	c.m = id(`INSERT INTO modules (title) VALUES ('m') RETURNING id`)
	c.m2 = id(`INSERT INTO modules (title) VALUES ('m2') RETURNING id`)
	c.s = id(`INSERT INTO subjects (module_id, teacher_id, title) VALUES ($1, $2, 's') RETURNING id`, c.m, c.teacher)
	c.s2 = id(`INSERT INTO subjects (module_id, teacher_id, title) VALUES ($1, $2, 's2') RETURNING id`, c.m2, otherTeacher)
	lesson := func(subject int32, url string) int32 {
		return id(`INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'l', 'doc', $2) RETURNING id`, subject, url)
	}
	c.l = lesson(c.s, "/static/lesson_docs/shared.pdf")
	c.lOwn = lesson(c.s, "/static/lesson_docs/own.pdf")
	c.l2 = lesson(c.s2, "/static/lesson_docs/shared.pdf")
	c.g = id(`INSERT INTO groups (name) VALUES ('g') RETURNING id`)
	c.q = c.quiz(t, id, c.s, nil)
	c.q2 = c.quiz(t, id, c.s2, &c.l)
	c.sub = id(`INSERT INTO lesson_submissions (lesson_id, user_id, comment) VALUES ($1, $2, 'c') RETURNING id`, c.l, c.student)
	c.sub2 = id(`INSERT INTO lesson_submissions (lesson_id, user_id) VALUES ($1, $2) RETURNING id`, c.lOwn, c.student)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO submission_files (submission_id, file_path) VALUES ($1, $2), ($1, $3), ($1, '')`,
			[]any{c.sub, c.file(c.l, "a.pdf"), c.file(c.l, "b.pdf")}},
		{`INSERT INTO submission_files (submission_id, file_path) VALUES ($1, $2)`, []any{c.sub2, c.file(c.lOwn, "c.pdf")}},
		{`INSERT INTO results (user_id, lesson_id, test_id, score) VALUES ($1, NULL, $2, 50), ($3, NULL, $2, 100)`, []any{c.student, c.q, c.other}},
		{`INSERT INTO results (user_id, lesson_id, test_id, score) VALUES ($1, $2, $3, 75)`, []any{c.other, c.l, c.q2}},
		{`INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, []any{c.m, c.g}},
		{`INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, []any{c.s, c.g}},
		{`INSERT INTO teacher_module (module_id, teacher_id) VALUES ($1, $2)`, []any{c.m, c.teacher}},
		{`INSERT INTO user_group (user_id, group_id) VALUES ($1, $2), ($3, $2)`, []any{c.student, c.g, c.other}},
		{`INSERT INTO login_attempts (iin, failed_count) VALUES ('000000000001', 2), ('000000000002', 1)`, nil},
	} {
		if _, err := c.pool.Exec(context.Background(), q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return c
}

func (c *course) quiz(t *testing.T, id func(string, ...any) int32, subject int32, lesson *int32) int32 {
	t.Helper()
	q := id(`INSERT INTO tests (title, subject_id, lesson_id) VALUES ('q', $1, $2) RETURNING id`, subject, lesson)
	for i := range 2 {
		qid := id(`INSERT INTO questions (test_id, question_text, correct_option_index) VALUES ($1, 'q', 0) RETURNING id`, q)
		id(`INSERT INTO options (question_id, option_text, option_index) VALUES ($1, $2, 0), ($1, 'b', 1) RETURNING id`, qid, fmt.Sprint(i))
	}
	return q
}

func (c *course) file(lesson int32, name string) string {
	return fmt.Sprintf("static/homework/lesson_%d/%d_%s", lesson, c.student, name)
}

// run calls f in a committed transaction.
func (c *course) run(t *testing.T, f func(tx pgx.Tx) error) {
	t.Helper()
	if err := pgx.BeginFunc(context.Background(), c.pool, f); err != nil {
		t.Fatalf("purge: %v", err)
	}
}

// count is SELECT count(*) FROM <from>.
func (c *course) count(t *testing.T, from string, args ...any) int {
	t.Helper()
	var n int
	if err := c.pool.QueryRow(context.Background(), `SELECT count(*) FROM `+from, args...).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", from, err)
	}
	return n
}

// want asserts row counts: "table WHERE …" → n; $1, $2 … in the text
// stand for the ids in args.
func (c *course) want(t *testing.T, counts map[string]int, args ...int32) {
	t.Helper()
	for from, n := range counts {
		sql := from
		for i := len(args); i > 0; i-- {
			sql = strings.ReplaceAll(sql, fmt.Sprintf("$%d", i), fmt.Sprint(args[i-1]))
		}
		if got := c.count(t, sql); got != n {
			t.Errorf("%s: %d rows, want %d", from, got, n)
		}
	}
}

func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: %q, want %q", what, got, want)
	}
}

func TestSubmissions(t *testing.T) {
	t.Parallel()
	c := seed(t)
	var files purge.Files
	c.run(t, func(tx pgx.Tx) (err error) {
		files, err = purge.Submissions(context.Background(), tx, []int32{c.sub})
		return err
	})
	c.want(t, map[string]int{
		"lesson_submissions WHERE id = $1":          0,
		"submission_files WHERE submission_id = $1": 0,
		"lesson_submissions":                        1, // sub2
		"submission_files":                          1,
	}, c.sub)
	sameSet(t, "stored", files.Stored, []string{c.file(c.l, "a.pdf"), c.file(c.l, "b.pdf")})
	if len(files.Dirs) != 0 {
		t.Errorf("dirs %q", files.Dirs)
	}
}

func TestTests(t *testing.T) {
	t.Parallel()
	c := seed(t)
	c.run(t, func(tx pgx.Tx) error { return purge.Tests(context.Background(), tx, []int32{c.q}) })
	c.want(t, map[string]int{
		"tests WHERE id = $1":          0,
		"questions WHERE test_id = $1": 0,
		"options o JOIN questions q ON q.id = o.question_id WHERE q.test_id = $1": 0,
		"results WHERE test_id = $1": 0,
		"tests":                      1, // q2 stays, with its questions, options and result
		"questions":                  2,
		"options":                    4,
		"results":                    1,
	}, c.q)
}

func TestLessons(t *testing.T) {
	t.Parallel()
	c := seed(t)
	var files purge.Files
	c.run(t, func(tx pgx.Tx) (err error) {
		files, err = purge.Lessons(context.Background(), tx, []int32{c.l, c.lOwn})
		return err
	})
	c.want(t, map[string]int{
		"lessons WHERE subject_id = $1":             0,
		"lessons":                                   1, // l2
		"lesson_submissions":                        0,
		"submission_files":                          0,
		"results WHERE lesson_id IS NOT NULL":       0,
		"results":                                   2, // q's results have no lesson
		"tests WHERE id = $2 AND lesson_id IS NULL": 1, // q2 is kept, unlinked
		"questions":                                 4,
	}, c.s, c.q2)
	// shared.pdf is still used by l2; own.pdf goes.
	sameSet(t, "stored", files.Stored, []string{c.file(c.l, "a.pdf"), c.file(c.l, "b.pdf"), c.file(c.lOwn, "c.pdf"), "/static/lesson_docs/own.pdf"})
	sameSet(t, "dirs", files.Dirs, []string{fmt.Sprintf("homework/lesson_%d", c.l), fmt.Sprintf("homework/lesson_%d", c.lOwn)})
}

// The last lesson using a document takes it; an external URL is never a file.
func TestLessonsLastDocument(t *testing.T) {
	t.Parallel()
	c := seed(t)
	if _, err := c.pool.Exec(context.Background(), `UPDATE lessons SET content_url = 'https://example.com/static/lesson_docs/x.pdf' WHERE id = $1`, c.lOwn); err != nil {
		t.Fatal(err)
	}
	var files purge.Files
	c.run(t, func(tx pgx.Tx) (err error) {
		files, err = purge.Lessons(context.Background(), tx, []int32{c.l, c.lOwn, c.l2})
		return err
	})
	c.want(t, map[string]int{"lessons": 0, "results": 2})
	if n := slices.Index(files.Stored, "/static/lesson_docs/shared.pdf"); n < 0 || slices.Contains(files.Stored[n+1:], "/static/lesson_docs/shared.pdf") {
		t.Errorf("shared document once: %q", files.Stored)
	}
	for _, s := range files.Stored {
		if strings.Contains(s, "example.com") {
			t.Errorf("external URL listed: %q", s)
		}
	}
}

func TestSubjects(t *testing.T) {
	t.Parallel()
	c := seed(t)
	var files purge.Files
	c.run(t, func(tx pgx.Tx) (err error) {
		files, err = purge.Subjects(context.Background(), tx, []int32{c.s})
		return err
	})
	c.want(t, map[string]int{
		"subjects WHERE id = $1":      0,
		"subjects":                    1,
		"lessons":                     1, // l2
		"tests WHERE subject_id = $1": 0,
		"tests WHERE id = $2 AND lesson_id IS NULL": 1, // q2 of s2 kept, unlinked from l
		"questions":          2,
		"options":            4,
		"results":            0, // q's results, and l's result of q2
		"lesson_submissions": 0,
		"submission_files":   0,
		"subject_group":      0,
		"module_group":       1, // the module stays
		"modules":            2,
	}, c.s, c.q2)
	sameSet(t, "stored", files.Stored, []string{c.file(c.l, "a.pdf"), c.file(c.l, "b.pdf"), c.file(c.lOwn, "c.pdf"), "/static/lesson_docs/own.pdf"})
	sameSet(t, "dirs", files.Dirs, []string{fmt.Sprintf("homework/lesson_%d", c.l), fmt.Sprintf("homework/lesson_%d", c.lOwn)})
}

func TestModules(t *testing.T) {
	t.Parallel()
	c := seed(t)
	var files purge.Files
	c.run(t, func(tx pgx.Tx) (err error) {
		files, err = purge.Modules(context.Background(), tx, []int32{c.m})
		return err
	})
	c.want(t, map[string]int{
		"modules WHERE id = $1": 0,
		"modules":               1,
		"subjects":              1,
		"lessons":               1,
		"tests":                 1,
		"module_group":          0,
		"teacher_module":        0,
		"subject_group":         0,
		"groups":                1,
		"users":                 4,
	}, c.m)
	sameSet(t, "stored", files.Stored, []string{c.file(c.l, "a.pdf"), c.file(c.l, "b.pdf"), c.file(c.lOwn, "c.pdf"), "/static/lesson_docs/own.pdf"})
	if len(files.Dirs) != 2 {
		t.Errorf("dirs %q", files.Dirs)
	}
}

func TestUsers(t *testing.T) {
	t.Parallel()
	c := seed(t)
	var files purge.Files
	c.run(t, func(tx pgx.Tx) (err error) {
		files, err = purge.Users(context.Background(), tx, []int32{c.student, c.teacher})
		return err
	})
	c.want(t, map[string]int{
		"users":                         2,
		"results WHERE user_id = $1":    0,
		"results":                       2, // other's
		"lesson_submissions":            0,
		"submission_files":              0,
		"user_group WHERE user_id = $1": 0,
		"user_group":                    1,
		"teacher_module":                0,
		"subjects WHERE id = $2 AND teacher_id IS NULL": 1,
		"subjects": 2,
		"login_attempts WHERE iin = '000000000001'": 0,
		"login_attempts": 1,
		"lessons":        3,
	}, c.student, c.s)
	sameSet(t, "stored", files.Stored, []string{c.file(c.l, "a.pdf"), c.file(c.l, "b.pdf"), c.file(c.lOwn, "c.pdf"), "static/photos/1_abc.png"})
	if len(files.Dirs) != 0 {
		t.Errorf("dirs %q", files.Dirs)
	}
}

// A photo column that points outside photos/ is never a file to remove.
func TestUsersForeignPhoto(t *testing.T) {
	t.Parallel()
	c := seed(t)
	if _, err := c.pool.Exec(context.Background(), `UPDATE users SET photo = 'static/homework/x.pdf' WHERE id = $1`, c.other); err != nil {
		t.Fatal(err)
	}
	var files purge.Files
	c.run(t, func(tx pgx.Tx) (err error) {
		files, err = purge.Users(context.Background(), tx, []int32{c.other})
		return err
	})
	if len(files.Stored) != 0 {
		t.Errorf("stored %q", files.Stored)
	}
}

func TestGroups(t *testing.T) {
	t.Parallel()
	c := seed(t)
	c.run(t, func(tx pgx.Tx) error { return purge.Groups(context.Background(), tx, []int32{c.g}) })
	c.want(t, map[string]int{
		"groups":        0,
		"user_group":    0,
		"module_group":  0,
		"subject_group": 0,
		"users":         4,
		"modules":       2,
		"subjects":      2,
	})
}

// Empty id lists do nothing (and cost no statement).
func TestEmpty(t *testing.T) {
	t.Parallel()
	c := seed(t)
	c.run(t, func(tx pgx.Tx) error {
		ctx := context.Background()
		for _, f := range []func() (purge.Files, error){
			func() (purge.Files, error) { return purge.Submissions(ctx, tx, nil) },
			func() (purge.Files, error) { return purge.Lessons(ctx, tx, nil) },
			func() (purge.Files, error) { return purge.Subjects(ctx, tx, nil) },
			func() (purge.Files, error) { return purge.Modules(ctx, tx, nil) },
			func() (purge.Files, error) { return purge.Users(ctx, tx, nil) },
		} {
			if files, err := f(); err != nil || len(files.Stored)+len(files.Dirs) != 0 {
				return fmt.Errorf("empty: %v %v", files, err)
			}
		}
		if err := purge.Tests(ctx, tx, nil); err != nil {
			return err
		}
		return purge.Groups(ctx, tx, nil)
	})
	c.want(t, map[string]int{"users": 4, "lessons": 3, "tests": 2, "groups": 1})
}

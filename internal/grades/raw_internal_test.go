package grades

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"platform/internal/db"
	"platform/internal/testdb"
	"platform/internal/web"
)

// simpleProtocol runs every query with the simple protocol, where every
// column comes as text: AppendForUser must take its scanning path.
type simpleProtocol struct{ db.DBTX }

func (s simpleProtocol) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return s.DBTX.Query(ctx, sql, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...)
}

// The wire-value encoder writes byte for byte what scanning into Grades and
// appendGrades write (itself checked against encoding/json), on text that
// needs escaping, NULLs, fractions and microseconds, for whole and partial
// pages.
func TestAppendForUserMatchesScannedGrades(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	var uid int32
	err := pool.QueryRow(ctx, `INSERT INTO users (full_name, iin, role, hashed_password)
		VALUES ('Ученик', '300000000001', 'student', 'x') RETURNING id`).Scan(&uid)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO modules (title) VALUES (E'Модуль "1" <b>&\u2028\\ \x01')`,
		`INSERT INTO subjects (module_id, title) SELECT id, 'Алгебра 🧮' FROM modules`,
		`INSERT INTO lessons (subject_id, title, type, content_url)
		 SELECT s.id, E'Урок\t' || i, CASE WHEN i = 2 THEN 'тест' ELSE 'pdf' END, '' FROM subjects s, generate_series(1, 3) i`,
		`INSERT INTO lesson_submissions (lesson_id, user_id, grade, submitted_at)
		 SELECT id, $1, CASE WHEN id % 2 = 0 THEN NULL ELSE 5 END,
		        CASE WHEN id % 3 = 0 THEN NULL ELSE '2025-06-05 10:00:00.123456'::timestamp END FROM lessons`,
		`INSERT INTO results (user_id, lesson_id, score, submitted_at)
		 SELECT $1, id, 66.67, '1999-12-31 23:59:59.5+00' FROM lessons WHERE type = 'тест'`,
		`INSERT INTO results (user_id, lesson_id, score) SELECT $1, id, 1e-7 FROM lessons LIMIT 1`,
		// Issue 24: deadlines (one from an extension), late and on-time submissions.
		`UPDATE lessons SET due_at = '2025-06-05 09:00:00.5' WHERE id % 2 = 1`,
		`INSERT INTO lesson_extensions (lesson_id, user_id, due_at, granted_at)
		 SELECT id, $1, '2030-01-01 00:00:00', '2025-01-01 00:00:00' FROM lessons WHERE type = 'тест'`,
		`UPDATE lesson_submissions SET late_seconds = 3600 WHERE lesson_id % 2 = 1`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, uid)
		}
		if _, err := pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// Each side takes the path it is meant to: otherwise the comparison
	// below would compare the scanning path with itself.
	for _, c := range []struct {
		q    db.DBTX
		want bool
	}{{pool, true}, {simpleProtocol{pool}, false}} {
		rows, err := c.q.Query(ctx, summarySQL, uid)
		if err != nil {
			t.Fatal(err)
		}
		if got := rawReadable(rows.FieldDescriptions()); got != c.want {
			t.Errorf("%T: rawReadable = %v, want %v", c.q, got, c.want)
		}
		rows.Close()
	}
	for _, page := range []web.Page{web.FullPage, {Limit: 2}, {Limit: 2, Offset: 3}, {Limit: 5, Offset: 99}} {
		raw, err := NewRepo(pool).AppendForUser(ctx, nil, uid, page)
		if err != nil {
			t.Fatal(err)
		}
		scanned, err := NewRepo(simpleProtocol{pool}).AppendForUser(ctx, nil, uid, page)
		if err != nil {
			t.Fatal(err)
		}
		if string(raw) != string(scanned) {
			t.Errorf("page %+v:\n raw     %s\n scanned %s", page, raw, scanned)
		}
		var list []map[string]any
		if err := json.Unmarshal(raw, &list); err != nil {
			t.Fatalf("page %+v: %v: %s", page, err, raw)
		}
		if page == web.FullPage && len(list) != 5 {
			t.Errorf("%d entries, want 3 submissions + 2 results: %s", len(list), raw)
		}
	}
}

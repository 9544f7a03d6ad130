package db_test

import (
	"context"
	"testing"

	"platform/internal/db"
)

// Migration 11 (issue 24) on an adopted database: additive (the original's
// rows read as "no deadline", "not late"), and reversible: one step down
// removes exactly its columns and tables, keeps the original's data, and up
// again gives the fresh schema.
func TestMigration11OnAdoptedDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := alembicDB(t, alembicHeadRev)
	if err := db.Migrate(ctx, url, nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	conn := connect(t, url)
	var withDeadline, late, history int
	err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM lessons WHERE due_at IS NOT NULL OR cutoff_at IS NOT NULL),
		(SELECT count(*) FROM lesson_submissions WHERE late_seconds IS NOT NULL), (SELECT count(*) FROM grade_history)`).Scan(&withDeadline, &late, &history)
	if err != nil {
		t.Fatal(err)
	}
	if withDeadline != 0 || late != 0 || history != 0 {
		t.Fatalf("adopted rows: %d lessons with deadlines, %d late submissions, %d history rows; want none", withDeadline, late, history)
	}
	// The original, still running, inserts without the new columns.
	execSQL(t, url, `INSERT INTO lessons (subject_id, title, type, content_url) SELECT id, 'из оригинала', 'pdf', '' FROM subjects LIMIT 1`)
	execSQL(t, url, `UPDATE lessons SET due_at = '2030-01-01 00:00:00' WHERE title = 'из оригинала'`)
	if _, err := conn.Exec(ctx, `UPDATE lessons SET cutoff_at = '2029-01-01 00:00:00' WHERE title = 'из оригинала'`); err == nil {
		t.Error("a cut-off before the due time was stored")
	}

	execSQL(t, url, `DELETE FROM lessons WHERE title = 'из оригинала'`)

	// Down to 10: the migrations after 11, then 11 itself.
	if err := db.MigrateDown(ctx, url, int(latestVersion)-10, nil); err != nil {
		t.Fatalf("MigrateDown to 10: %v", err)
	}
	for _, c := range [][2]string{{"lessons", "due_at"}, {"lessons", "cutoff_at"}, {"lesson_submissions", "late_seconds"}} {
		if has(t, conn, c[0], c[1]) {
			t.Errorf("%s.%s left by the down migration", c[0], c[1])
		}
	}
	for _, tbl := range tables(t, conn) {
		if tbl == "grade_history" || tbl == "lesson_extensions" {
			t.Errorf("table %s left by the down migration", tbl)
		}
	}
	assertAdoptedData(t, conn)
	if err := db.Migrate(ctx, url, nil); err != nil {
		t.Fatalf("Migrate after down: %v", err)
	}
	assertVersion(t, url, latestVersion)
	assertSameSchemaAsFresh(t, conn)
}

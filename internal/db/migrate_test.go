package db_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"

	"platform/internal/apitest/await"
	"platform/internal/db"
	"platform/internal/testdb"
	"platform/migrations"
)

// lockKey is the fixed application key of Migrate's advisory lock. It is part
// of the operational contract (operators look for it in pg_locks), so the
// test spells it out rather than reaching into the package.
const lockKey int64 = 0x706c6174666f726d

// latestVersion is the number of the last migration in migrations/, read from
// the embedded files so a new migration does not need a test edit.
var latestVersion = migrations.Latest()

// baselineConstraints are the SCHEMA.md constraint names, with whether the
// constraint is a foreign key with ON DELETE CASCADE.
var wantConstraints = map[string]bool{
	"groups_pkey": false, "groups_name_key": false,
	"modules_pkey": false,
	"users_pkey":   false, "users_phone_key": false,
	"module_group_pkey": false, "module_group_group_id_fkey": false, "module_group_module_id_fkey": false,
	"subjects_pkey": false, "subjects_module_id_fkey": false, "subjects_teacher_id_fkey": false,
	"teacher_module_pkey": false, "teacher_module_module_id_fkey": false, "teacher_module_teacher_id_fkey": false,
	"user_group_pkey": false, "user_group_group_id_fkey": false, "user_group_user_id_fkey": false,
	"lessons_pkey": false, "lessons_subject_id_fkey": false,
	"lesson_submissions_pkey": false, "lesson_submissions_lesson_id_fkey": true, "lesson_submissions_user_id_fkey": true,
	"submission_files_pkey": false, "submission_files_submission_id_fkey": true,
	"tests_pkey": false, "tests_lesson_id_key": false, "tests_lesson_id_fkey": false, "tests_subject_id_fkey": false,
	"questions_pkey": false, "questions_test_id_fkey": false,
	"options_pkey": false, "options_question_id_fkey": false,
	"results_pkey": false, "results_lesson_id_fkey": false, "results_test_id_fkey": false, "results_user_id_fkey": false,
	// Part 2.
	"subject_group_pkey": false, "subject_group_subject_id_fkey": true, "subject_group_group_id_fkey": true,
	"uq_results_user_test": false,
	"login_attempts_pkey":  false,
	// Migration 6: sessions (token_version, refresh_tokens).
	"refresh_families_pkey": false, "refresh_families_user_id_fkey": true,
	"refresh_tokens_pkey": false, "refresh_tokens_token_hash_key": false, "refresh_tokens_family_id_fkey": true,
	// Migration 7: import jobs.
	"import_jobs_pkey": false, "import_jobs_status_check": false,
	// Migration 10: re-created IINs.
	"user_tombstones_pkey": false,
	// Migration 11: deadlines, extensions, grade history (history keeps its rows: SET NULL).
	"lessons_deadline_order": false, "lesson_extensions_pkey": false,
	"lesson_extensions_lesson_id_fkey": true, "lesson_extensions_user_id_fkey": true, "lesson_extensions_granted_by_fkey": false,
	"grade_history_pkey": false, "grade_history_kind_check": false, "grade_history_submission_id_fkey": false,
	"grade_history_lesson_id_fkey": false, "grade_history_student_id_fkey": false, "grade_history_actor_id_fkey": false,
}

// wantIndexes are the SCHEMA.md indexes that are not behind a constraint,
// with whether they are unique.
var wantIndexes = map[string]bool{
	"ix_modules_id": false, "ix_users_id": false, "ix_users_iin": true, "ix_subjects_id": false,
	"ix_lessons_id": false, "ix_lesson_submissions_id": false, "ix_submission_files_id": false,
	"ix_tests_id": false, "ix_questions_id": false, "ix_options_id": false, "ix_results_id": false,
	"ix_subject_group_group_id": false, "ix_login_attempts_last_failed_at": false,
	// Migration 5.
	"ix_subjects_module_id": false, "ix_subjects_teacher_id": false, "ix_lessons_subject_id": false,
	"ix_lesson_submissions_lesson_id": false, "ix_lesson_submissions_user_id": false,
	"ix_submission_files_submission_id": false, "ix_tests_subject_id": false, "ix_questions_test_id": false,
	"ix_options_question_id": false, "ix_results_lesson_id": false, "ix_results_test_id": false,
	"ix_user_group_group_id": false, "ix_module_group_group_id": false, "ix_teacher_module_teacher_id": false,
	// Migration 7.
	"ix_refresh_families_user_id": false, "ix_refresh_tokens_family_id": false,
	// Migration 10.
	"ix_lessons_content_url": false,
	// Migration 11.
	"ix_lesson_extensions_user_id": false, "ix_grade_history_submission_id": false, "ix_grade_history_lesson_id": false,
	"ix_grade_history_student_id": false, "ix_grade_history_actor_id": false,
	// Migration 13 (issue 20: the orphan sweep's batched checks).
	"ix_submission_files_file_path": false, "ix_users_photo": false,
}

var wantTables = []string{
	"course_revision", // migration 9
	"grade_history",   // migration 11
	"groups", "import_jobs",
	"lesson_extensions", // migration 11
	"lesson_submissions", "lessons", "login_attempts", "module_group", "modules", "options",
	"questions", "refresh_families", "refresh_tokens", "results",
	"river_job", "river_leader", "river_migration", "river_notification", "river_queue", // River's, with migration 12
	"schema_migrations", "subject_group", "subjects", "submission_files",
	"teacher_module", "tests", "user_group", "user_tombstones", "users",
}

func TestMigrateFreshDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.Empty(t)

	if err := db.Migrate(ctx, url, nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	assertVersion(t, url, latestVersion)
	conn := connect(t, url)

	if got := tables(t, conn); !slices.Equal(got, wantTables) {
		t.Errorf("tables = %v, want %v", got, wantTables)
	}

	gotCons := map[string]string{}
	rows, _ := conn.Query(ctx, `
		SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE connamespace = current_schema()::regnamespace`)
	var name, def string
	if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error { gotCons[name] = def; return nil }); err != nil {
		t.Fatal(err)
	}
	for name, cascade := range wantConstraints {
		def, ok := gotCons[name]
		if !ok {
			t.Errorf("constraint %s missing", name)
			continue
		}
		if got := strings.Contains(def, "ON DELETE CASCADE"); got != cascade {
			t.Errorf("constraint %s = %q, want ON DELETE CASCADE: %v", name, def, cascade)
		}
	}
	if got, want := gotCons["uq_results_user_test"], "UNIQUE (user_id, test_id)"; got != want {
		t.Errorf("uq_results_user_test = %q, want %q", got, want)
	}

	gotIdx := map[string]string{}
	rows, _ = conn.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()`)
	if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error { gotIdx[name] = def; return nil }); err != nil {
		t.Fatal(err)
	}
	for name, unique := range wantIndexes {
		def, ok := gotIdx[name]
		if !ok {
			t.Errorf("index %s missing", name)
			continue
		}
		if got := strings.HasPrefix(def, "CREATE UNIQUE INDEX"); got != unique {
			t.Errorf("index %s = %q, want unique: %v", name, def, unique)
		}
	}

	var labels []string
	if err := conn.QueryRow(ctx, `SELECT enum_range(NULL::userrole)::text[]`).Scan(&labels); err != nil {
		t.Fatal(err)
	}
	if want := []string{"student", "teacher", "admin"}; !slices.Equal(labels, want) {
		t.Errorf("userrole = %v, want %v", labels, want)
	}

	// Defaults: only the serial ids, results.submitted_at and login_attempts'.
	for _, tc := range []struct{ table, column, want string }{
		{"users", "id", "nextval('users_id_seq'::regclass)"},
		{"users", "role", ""},
		{"results", "submitted_at", "now()"},
		{"login_attempts", "failed_count", "0"},
		{"login_attempts", "last_failed_at", "now()"},
		{"users", "token_version", "1"},
		{"users", "must_change_password", "false"}, // migration 8
	} {
		var got *string
		err := conn.QueryRow(ctx, `
			SELECT column_default FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2`,
			tc.table, tc.column).Scan(&got)
		if err != nil {
			t.Fatalf("%s.%s: %v", tc.table, tc.column, err)
		}
		if deref(got) != tc.want {
			t.Errorf("default of %s.%s = %q, want %q", tc.table, tc.column, deref(got), tc.want)
		}
	}
	if has(t, conn, "lesson_submissions", "file_path") {
		t.Error("lesson_submissions.file_path exists in the baseline")
	}
}

func TestMigrateDownThenUpAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.NewURL(t)
	conn := connect(t, url)

	// Down to 5, whatever came after it (versions have no gaps: migrations.Latest's test).
	if err := db.MigrateDown(ctx, url, int(latestVersion)-5, nil); err != nil {
		t.Fatalf("MigrateDown %d: %v", latestVersion-5, err)
	}
	assertVersion(t, url, 5)
	if has(t, conn, "users", "token_version") || slices.Contains(tables(t, conn), "refresh_tokens") {
		t.Error("migration 6 down left its column or tables")
	}
	if err := db.MigrateDown(ctx, url, 1, nil); err != nil {
		t.Fatalf("MigrateDown 1: %v", err)
	}
	assertVersion(t, url, 4)
	if indexExists(t, conn, "ix_results_test_id") {
		t.Error("migration 5 down left ix_results_test_id")
	}

	if err := db.MigrateDown(ctx, url, 4, nil); err != nil {
		t.Fatalf("MigrateDown 4: %v", err)
	}
	assertVersion(t, url, 0)
	if got, want := tables(t, conn), []string{"schema_migrations"}; !slices.Equal(got, want) {
		t.Errorf("tables after full down = %v, want %v", got, want)
	}
	var leftovers int
	if err := conn.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM pg_type WHERE typname = 'userrole')
		     + (SELECT count(*) FROM pg_class WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace)`,
	).Scan(&leftovers); err != nil {
		t.Fatal(err)
	}
	if leftovers != 0 {
		t.Errorf("%d types/sequences left after full down", leftovers)
	}

	if err := db.Migrate(ctx, url, nil); err != nil {
		t.Fatalf("Migrate after down: %v", err)
	}
	assertVersion(t, url, latestVersion)
	if got := tables(t, conn); !slices.Equal(got, wantTables) {
		t.Errorf("tables = %v, want %v", got, wantTables)
	}
}

func TestMigrateTwiceIsNoop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.NewURL(t)
	before := snapshot(t, connect(t, url))

	var logs bytes.Buffer
	if err := db.Migrate(ctx, url, jsonLogger(&logs)); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	assertVersion(t, url, latestVersion)
	if after := snapshot(t, connect(t, url)); !slices.Equal(before, after) {
		t.Errorf("schema changed by a no-op Migrate:\n%s", diff(before, after))
	}
	if strings.Contains(logs.String(), `"migrations applied"`) {
		t.Errorf("no-op Migrate logged applied migrations: %s", logs.String())
	}
}

func TestMigrateAdoptsAlembicHead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := alembicDB(t, alembicHeadRev)

	var logs bytes.Buffer
	if err := db.Migrate(ctx, url, jsonLogger(&logs)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	assertVersion(t, url, latestVersion)
	assertLogged(t, &logs, "database adopted", "from", alembicHeadRev)
	assertLogged(t, &logs, "migrations applied", "version", float64(latestVersion))

	conn := connect(t, url)
	assertAdoptedData(t, conn)
	assertAlembic(t, conn, alembicHeadRev)
	assertSameSchemaAsFresh(t, conn)

	// Adopted databases are ours from now on: a second run is a no-op.
	logs.Reset()
	if err := db.Migrate(ctx, url, jsonLogger(&logs)); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if strings.Contains(logs.String(), "database adopted") {
		t.Errorf("second Migrate adopted again: %s", logs.String())
	}
	assertAlembic(t, conn, alembicHeadRev)
}

func TestMigrateAdoptsAlembicInitial(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := alembicDB(t, alembicInitialRev)

	var logs bytes.Buffer
	if err := db.Migrate(ctx, url, jsonLogger(&logs)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	assertVersion(t, url, latestVersion)
	assertLogged(t, &logs, "database adopted", "from", alembicInitialRev)

	conn := connect(t, url)
	if has(t, conn, "lesson_submissions", "file_path") {
		t.Error("lesson_submissions.file_path not dropped")
	}
	assertAdoptedData(t, conn) // includes the moved file paths
	assertAlembic(t, conn, alembicHeadRev)
	assertSameSchemaAsFresh(t, conn)
}

func TestMigrateAdoptsCreateAllDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.Empty(t)
	execFiles(t, url, "schema_initial.sql", "submission_files.sql", "seed.sql", "submissions_initial.sql")

	var logs bytes.Buffer
	if err := db.Migrate(ctx, url, jsonLogger(&logs)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	assertVersion(t, url, latestVersion)
	assertLogged(t, &logs, "database adopted", "from", "create_all")

	conn := connect(t, url)
	if has(t, conn, "lesson_submissions", "file_path") {
		t.Error("lesson_submissions.file_path not dropped")
	}
	assertAdoptedData(t, conn)
	if slices.Contains(tables(t, conn), "alembic_version") {
		t.Error("adoption created alembic_version")
	}
	assertSameSchemaAsFresh(t, conn)
}

func TestMigrateRefusesUnknownDatabases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T) string // returns the database URL
		want  string                    // in the error
	}{
		{
			name:  "unknown revision",
			setup: func(t *testing.T) string { return alembicDB(t, "0123abcd4567") },
			want:  `unknown Alembic revision "0123abcd4567"`,
		},
		{
			name:  "no alembic row",
			setup: func(t *testing.T) string { return alembicDB(t) },
			want:  "alembic_version has no row",
		},
		{
			name:  "several alembic rows",
			setup: func(t *testing.T) string { return alembicDB(t, alembicHeadRev, alembicInitialRev) },
			want:  "alembic_version has 2 rows (33732b012934, 7a2a4924f9e5)",
		},
		{
			name: "head missing a column",
			setup: func(t *testing.T) string {
				url := alembicDB(t, alembicHeadRev)
				execSQL(t, url, `ALTER TABLE users DROP COLUMN photo`)
				return url
			},
			want: "missing column users.photo",
		},
		{
			name: "head still has file_path",
			setup: func(t *testing.T) string {
				url := alembicDB(t, alembicHeadRev)
				execSQL(t, url, `ALTER TABLE lesson_submissions ADD COLUMN file_path varchar(512)`)
				return url
			},
			want: "unexpected column lesson_submissions.file_path",
		},
		{
			name: "head with a column of another type family",
			setup: func(t *testing.T) string {
				url := alembicDB(t, alembicHeadRev)
				execSQL(t, url, `ALTER TABLE results ALTER COLUMN score TYPE text`)
				return url
			},
			want: "column results.score has type text, want floating point",
		},
		{
			name: "initial missing a column",
			setup: func(t *testing.T) string {
				url := alembicDB(t, alembicInitialRev)
				execSQL(t, url, `ALTER TABLE users DROP COLUMN photo`)
				return url
			},
			want: "missing column users.photo",
		},
		{
			name: "create_all missing a table",
			setup: func(t *testing.T) string {
				url := testdb.Empty(t)
				execFiles(t, url, headSchema("seed.sql")...)
				execSQL(t, url, `DROP TABLE options`)
				return url
			},
			want: "missing table options",
		},
		{
			name: "unrelated tables only",
			setup: func(t *testing.T) string {
				url := testdb.Empty(t)
				execSQL(t, url, `CREATE TABLE something_else (id int)`)
				return url
			},
			want: "missing table groups",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := tc.setup(t)
			conn := connect(t, url)
			before := snapshot(t, conn)
			beforeAlembic := alembicRows(t, conn)

			err := db.Migrate(context.Background(), url, nil)
			if err == nil {
				t.Fatal("Migrate succeeded, want a refusal")
			}
			if !strings.HasPrefix(err.Error(), "db: adopt: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Migrate error = %q, want db: adopt: …%s…", err, tc.want)
			}
			// A refusal leaves the database exactly as it was: no
			// schema_migrations (so the next start decides again), no split,
			// no alembic_version change.
			if after := snapshot(t, conn); !slices.Equal(before, after) {
				t.Errorf("refused Migrate changed the schema:\n%s", diff(before, after))
			}
			if slices.Contains(tables(t, conn), "schema_migrations") {
				t.Error("refused Migrate created schema_migrations")
			}
			if after := alembicRows(t, conn); !slices.Equal(beforeAlembic, after) {
				t.Errorf("alembic_version = %v, was %v", after, beforeAlembic)
			}
		})
	}
}

func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T) string
	}{
		{"fresh", func(t *testing.T) string { return testdb.Empty(t) }},
		{"alembic initial", func(t *testing.T) string { return alembicDB(t, alembicInitialRev) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url := tc.setup(t)
			errs := make([]error, 3)
			var wg sync.WaitGroup
			for i := range errs {
				wg.Go(func() { errs[i] = db.Migrate(context.Background(), url, nil) })
			}
			await.Group(t, &wg, "three concurrent migrations")
			for i, err := range errs {
				if err != nil {
					t.Errorf("Migrate #%d: %v", i, err)
				}
			}
			assertVersion(t, url, latestVersion)
			if tc.name == "alembic initial" {
				// The split step ran once: no duplicated file rows.
				assertAdoptedData(t, connect(t, url))
			}
		})
	}
}

func TestMigrateWaitsForLock(t *testing.T) {
	t.Parallel()
	url := testdb.Empty(t)
	holder := connect(t, url)
	if _, err := holder.Exec(context.Background(), `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		t.Fatal(err)
	}

	// While another session holds the lock, Migrate waits, and gives up
	// when its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := db.Migrate(ctx, url, nil); err == nil {
		t.Fatal("Migrate ran while the lock was held")
	}
	assertVersion(t, url, 0)

	done := make(chan error, 1)
	go func() { done <- db.Migrate(context.Background(), url, nil) }()
	select {
	case err := <-done:
		t.Fatalf("Migrate returned %v while the lock was held", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := holder.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, lockKey); err != nil {
		t.Fatal(err)
	}
	if err := await.Recv(t, done, "Migrate after the unlock"); err != nil {
		t.Fatalf("Migrate after unlock: %v", err)
	}
	assertVersion(t, url, latestVersion)
}

// TestMultiStatementFileIsAtomic pins the driver behaviour the migration files
// rely on instead of BEGIN/COMMIT: golang-migrate's pgx/v5 driver sends a file
// as one simple-protocol Query, which PostgreSQL runs as one transaction.
func TestMultiStatementFileIsAtomic(t *testing.T) {
	t.Parallel()
	url := testdb.Empty(t)
	files := fstest.MapFS{
		"1_broken.up.sql":   {Data: []byte("CREATE TABLE first_half (id int);\nCREATE TABLE second_half (id no_such_type);\n")},
		"1_broken.down.sql": {Data: []byte("DROP TABLE first_half;\n")},
	}
	src, err := iofs.New(files, ".")
	if err != nil {
		t.Fatal(err)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, "pgx5"+strings.TrimPrefix(url, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Up(); err == nil {
		t.Fatal("broken migration applied")
	}
	if slices.Contains(tables(t, connect(t, url)), "first_half") {
		t.Error("first statement of a failed migration file was committed")
	}
}

func TestMigrateVersionAndDownLeaveAlembicDatabaseAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := alembicDB(t, alembicHeadRev)

	if v, dirty, err := db.MigrateVersion(ctx, url); err != nil || v != 0 || dirty {
		t.Fatalf("MigrateVersion = %d, %v, %v; want 0, false, nil", v, dirty, err)
	}
	if err := db.MigrateDown(ctx, url, 1, nil); err == nil {
		t.Fatal("MigrateDown succeeded on a database without schema_migrations")
	}
	if slices.Contains(tables(t, connect(t, url)), "schema_migrations") {
		t.Fatal("schema_migrations created; Migrate would skip adoption")
	}
	var logs bytes.Buffer
	if err := db.Migrate(ctx, url, jsonLogger(&logs)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	assertLogged(t, &logs, "database adopted", "from", alembicHeadRev)
}

// Migration 1's down step drops every table of the baseline. On an adopted
// database those are the original's tables and data, so rolling back below
// version 1 is refused, and a step count beyond version 0 fails before
// anything is reverted (issue 11, item 6).
func TestMigrateDownKeepsAdoptedOriginal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := alembicDB(t, alembicHeadRev)
	if err := db.Migrate(ctx, url, nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	conn := connect(t, url)
	before, beforeRows := snapshot(t, conn), rowCounts(t, conn)

	for _, steps := range []int{int(latestVersion), int(latestVersion) + 1, 99} {
		err := db.MigrateDown(ctx, url, steps, nil)
		if err == nil {
			t.Fatalf("MigrateDown %d succeeded on an adopted database", steps)
		}
		if steps == int(latestVersion) && !strings.Contains(err.Error(), "adopted") {
			t.Errorf("MigrateDown %d: %v; want a refusal naming the adoption", steps, err)
		}
		assertVersion(t, url, latestVersion)
		if got := snapshot(t, conn); !slices.Equal(got, before) {
			t.Fatalf("MigrateDown %d changed the schema:\n%s", steps, diff(before, got))
		}
		if got := rowCounts(t, conn); !maps.Equal(got, beforeRows) {
			t.Fatalf("MigrateDown %d changed the data: rows %v, want %v", steps, got, beforeRows)
		}
		assertAlembic(t, conn, alembicHeadRev)
	}

	// Down to the baseline is allowed: the original's tables stay.
	if err := db.MigrateDown(ctx, url, int(latestVersion)-1, nil); err != nil {
		t.Fatalf("MigrateDown to 1: %v", err)
	}
	assertVersion(t, url, 1)
	if got := rowCounts(t, conn); got["users"] != beforeRows["users"] || got["results"] != beforeRows["results"] {
		t.Fatalf("rows after down to 1: %v, want the original's %v", got, beforeRows)
	}
	if err := db.MigrateDown(ctx, url, 1, nil); err == nil {
		t.Fatal("MigrateDown 1 from the baseline succeeded on an adopted database")
	}
	assertVersion(t, url, 1)
	if err := db.Migrate(ctx, url, nil); err != nil {
		t.Fatalf("Migrate after down: %v", err)
	}
	assertVersion(t, url, latestVersion)
	assertAdoptedData(t, conn)
}

// On a database of our own, going to version 0 is allowed, but asking for
// more steps than are applied fails before reverting any of them.
func TestMigrateDownPastZeroTouchesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.NewURL(t)
	conn := connect(t, url)
	before := snapshot(t, conn)

	err := db.MigrateDown(ctx, url, int(latestVersion)+1, nil)
	if err == nil {
		t.Fatal("MigrateDown past version 0 succeeded")
	}
	if want := fmt.Sprintf("only %d applied", latestVersion); !strings.Contains(err.Error(), want) {
		t.Errorf("MigrateDown past 0: %v; want it to say %q", err, want)
	}
	assertVersion(t, url, latestVersion)
	if got := snapshot(t, conn); !slices.Equal(got, before) {
		t.Errorf("MigrateDown past 0 changed the schema:\n%s", diff(before, got))
	}
}

func TestMigrateForceClearsDirty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.NewURL(t)
	execSQL(t, url, `UPDATE schema_migrations SET dirty = true`)

	if v, dirty, err := db.MigrateVersion(ctx, url); err != nil || v != latestVersion || !dirty {
		t.Fatalf("MigrateVersion = %d, %v, %v; want %d, true, nil", v, dirty, err, latestVersion)
	}
	if err := db.Migrate(ctx, url, nil); err == nil {
		t.Fatal("Migrate succeeded on a dirty database")
	}
	if err := db.MigrateForce(ctx, url, int(latestVersion)); err != nil {
		t.Fatalf("MigrateForce: %v", err)
	}
	assertVersion(t, url, latestVersion)
	if err := db.Migrate(ctx, url, nil); err != nil {
		t.Fatalf("Migrate after force: %v", err)
	}
}

// Alembic revisions of the original.
const (
	alembicInitialRev = "33732b012934"
	alembicHeadRev    = "7a2a4924f9e5"
)

// alembicDB builds an original database with seed rows. Its shape follows
// the first revision given (33732b012934: file_path column; anything else:
// head); alembic_version gets one row per revision given.
func alembicDB(t *testing.T, revisions ...string) string {
	t.Helper()
	url := testdb.Empty(t)
	if len(revisions) > 0 && revisions[0] == alembicInitialRev {
		execFiles(t, url, "schema_initial.sql", "seed.sql", "submissions_initial.sql", "alembic_version.sql")
	} else {
		execFiles(t, url, headSchema("seed.sql", "submissions_head.sql", "alembic_version.sql")...)
	}
	for _, rev := range revisions {
		execSQL(t, url, `INSERT INTO alembic_version (version_num) VALUES ($1)`, rev)
	}
	return url
}

// assertAdoptedData checks the seed rows survived adoption and migrations 2–7:
// all of them, except the duplicate result migration 3 removes.
func assertAdoptedData(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	wantCounts := map[string]int{
		"groups": 2, "modules": 2, "users": 4, "module_group": 3, "subjects": 2, "teacher_module": 1,
		"user_group": 3, "lessons": 2, "lesson_submissions": 3, "submission_files": 3, "tests": 2,
		"questions": 2, "options": 4, "results": 5, "subject_group": 0, "login_attempts": 0,
	}
	for table, want := range wantCounts {
		var got int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&got); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		if got != want {
			t.Errorf("%s has %d rows, want %d", table, got, want)
		}
	}

	// Migration 7: adopted users have no token generation, so the original's
	// tokens stay valid for them until a revoking event.
	var versioned int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM users WHERE token_version IS NOT NULL`).Scan(&versioned); err != nil {
		t.Fatal(err)
	}
	if versioned != 0 {
		t.Errorf("%d adopted users got a token_version", versioned)
	}

	var resultIDs []int32
	if err := conn.QueryRow(ctx, `SELECT array_agg(id ORDER BY id) FROM results`).Scan(&resultIDs); err != nil {
		t.Fatal(err)
	}
	if want := []int32{1, 2, 4, 5, 6}; !slices.Equal(resultIDs, want) {
		t.Errorf("result ids = %v, want %v (earliest of the duplicate pair kept)", resultIDs, want)
	}
	var score float64
	var submitted time.Time
	if err := conn.QueryRow(ctx, `SELECT score, submitted_at FROM results WHERE id = 2`).Scan(&score, &submitted); err != nil {
		t.Fatal(err)
	}
	if score != 50.5 || !submitted.Equal(time.Date(2024, 3, 1, 10, 5, 0, 0, time.UTC)) {
		t.Errorf("result 2 = %v at %v", score, submitted)
	}

	var iin, role string
	if err := conn.QueryRow(ctx, `SELECT iin, role::text FROM users WHERE id = 4`).Scan(&iin, &role); err != nil {
		t.Fatal(err)
	}
	if iin != "12345" || role != "student" {
		t.Errorf("user 4 = %q %q, want the short legacy IIN, student", iin, role)
	}
	var title string
	if err := conn.QueryRow(ctx, `SELECT title FROM lessons WHERE id = 2 AND type = 'Тест'`).Scan(&title); err != nil {
		t.Fatalf("lesson 2: %v", err)
	}

	files := map[int32]string{}
	rows, _ := conn.Query(ctx, `SELECT submission_id, file_path FROM submission_files`)
	var sid int32
	var path string
	if _, err := pgx.ForEachRow(rows, []any{&sid, &path}, func() error { files[sid] = path; return nil }); err != nil {
		t.Fatal(err)
	}
	want := map[int32]string{
		1: "static/homework/lesson_1/a.pdf",
		2: "static/homework/lesson_1/b.docx",
		3: "static/homework/lesson_2/c.png",
	}
	if fmt.Sprint(files) != fmt.Sprint(want) {
		t.Errorf("submission files = %v, want %v", files, want)
	}

	// Sequences still match the data: the original's ids came from them.
	var newID int
	err := conn.QueryRow(ctx, `
		INSERT INTO users (full_name, iin, role, hashed_password) VALUES ('Новый', '999999999999', 'student', 'x')
		RETURNING id`).Scan(&newID)
	if err != nil || newID != 5 {
		t.Errorf("insert user: id %d, %v; want id 5", newID, err)
	}
}

// assertSameSchemaAsFresh compares an adopted database's schema with a
// freshly migrated one, catching any difference in names, types, defaults,
// constraints or indexes between the baseline and the original.
func assertSameSchemaAsFresh(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	fresh := snapshot(t, connect(t, testdb.NewURL(t)))
	if got := snapshot(t, conn); !slices.Equal(got, fresh) {
		t.Errorf("adopted schema differs from a fresh one:\n%s", diff(fresh, got))
	}
}

// rowCounts maps every table of the current schema to its number of rows.
func rowCounts(t *testing.T, conn *pgx.Conn) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, table := range tables(t, conn) {
		var n int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		counts[table] = n
	}
	return counts
}

// snapshot describes the current schema (bookkeeping tables excluded) as
// sorted lines: columns, constraints, indexes, sequences and enum labels.
func snapshot(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	const q = `
		SELECT format('column %s.%s %s(%s) nullable=%s default=%s', table_name, column_name, data_type,
			character_maximum_length, is_nullable, column_default)
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name NOT IN ('alembic_version', 'schema_migrations')
		UNION ALL
		SELECT format('constraint %s on %s: %s', conname, conrelid::regclass, pg_get_constraintdef(oid))
		FROM pg_constraint
		WHERE connamespace = current_schema()::regnamespace
		  AND conrelid::regclass::text NOT IN ('alembic_version', 'schema_migrations')
		UNION ALL
		SELECT format('index %s', indexdef)
		FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename NOT IN ('alembic_version', 'schema_migrations')
		UNION ALL
		SELECT format('sequence %s', relname)
		FROM pg_class WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace
		UNION ALL
		SELECT format('enum %s %s %s', typname, enumsortorder, enumlabel)
		FROM pg_enum JOIN pg_type ON pg_type.oid = enumtypid
		ORDER BY 1`
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// diff lists the lines only in want (-) or only in got (+).
func diff(want, got []string) string {
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

func assertVersion(t *testing.T, url string, want uint) {
	t.Helper()
	v, dirty, err := db.MigrateVersion(context.Background(), url)
	if err != nil {
		t.Fatalf("MigrateVersion: %v", err)
	}
	if v != want || dirty {
		t.Fatalf("version = %d (dirty %v), want %d (clean)", v, dirty, want)
	}
}

func assertAlembic(t *testing.T, conn *pgx.Conn, want string) {
	t.Helper()
	if got := alembicRows(t, conn); !slices.Equal(got, []string{want}) {
		t.Errorf("alembic_version = %v, want [%s]", got, want)
	}
}

func alembicRows(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	if !slices.Contains(tables(t, conn), "alembic_version") {
		return nil
	}
	rows, _ := conn.Query(context.Background(), `SELECT version_num FROM alembic_version ORDER BY 1`)
	revs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return revs
}

// assertLogged checks that a JSON log line with msg carries key=value.
func assertLogged(t *testing.T, logs *bytes.Buffer, msg, key string, value any) {
	t.Helper()
	want := fmt.Sprintf(`"msg":%q`, msg)
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, want) {
			if !strings.Contains(line, fmt.Sprintf(`%q:%v`, key, quoteIfString(value))) {
				t.Errorf("log %q lacks %s=%v: %s", msg, key, value, line)
			}
			return
		}
	}
	t.Errorf("no %q log line in:\n%s", msg, logs.String())
}

func quoteIfString(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

func jsonLogger(w *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, nil))
}

func tables(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, _ := conn.Query(context.Background(), `
		SELECT table_name::text FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func has(t *testing.T, conn *pgx.Conn, table, column string) bool {
	t.Helper()
	var ok bool
	err := conn.QueryRow(context.Background(), `
		SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2)`, table, column).Scan(&ok)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func indexExists(t *testing.T, conn *pgx.Conn, name string) bool {
	t.Helper()
	var ok bool
	if err := conn.QueryRow(context.Background(), `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// connect opens a connection closed at test end (before pgtestdb drops the
// database, since cleanups run last-in first-out).
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func execSQL(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("exec %q: %v", sql, err)
	}
}

// headSchema lists the fixtures that build the original's schema at Alembic
// head 7a2a4924f9e5 the way it came about (the 33732b012934 schema, then the
// split step), followed by more.
func headSchema(more ...string) []string {
	return append([]string{"schema_initial.sql", "submission_files.sql", "drop_file_path.sql"}, more...)
}

// execFiles runs testdata fixture files in order, each as one statement batch.
func execFiles(t *testing.T, url string, names ...string) {
	t.Helper()
	for _, name := range names {
		sql, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		execSQL(t, url, string(sql))
	}
}

package db

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Alembic revisions of the original application (SCHEMA.md Part 1).
const (
	alembicInitial = "33732b012934" // "initial schema": lesson_submissions.file_path
	alembicHead    = "7a2a4924f9e5" // "split submission files": the baseline
)

// fromCreateAll is the "from" of a database built by the original's start-up
// create_all, which leaves no bookkeeping behind.
const fromCreateAll = "create_all"

// dbState is what Migrate finds before deciding how to proceed.
type dbState struct {
	hasSchemaMigrations bool
	hasAlembic          bool
	alembicRevisions    []string // every alembic_version row, sorted
	tables              []string // other base tables in the current schema
	hasFilePath         bool     // lesson_submissions.file_path exists
}

// adoptPlan is the outcome of decide: run Up directly, or adopt first.
type adoptPlan struct {
	adopt bool
	// from names what is adopted, for the log: an Alembic revision or
	// fromCreateAll.
	from string
	// split: apply the split step (Alembic 7a2a4924f9e5's effect) first.
	split bool
	// bumpAlembic: set alembic_version to the head in the split transaction.
	bumpAlembic bool
}

// inspect reads the bookkeeping and tables of the current schema. Everything
// is looked up in current_schema(), the schema golang-migrate uses too.
func inspect(ctx context.Context, conn *pgx.Conn) (dbState, error) {
	var st dbState
	const q = `
		SELECT table_name
		FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
		ORDER BY table_name`
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return st, fmt.Errorf("list tables: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return st, fmt.Errorf("list tables: %w", err)
	}
	for _, n := range names {
		switch n {
		case "schema_migrations":
			st.hasSchemaMigrations = true
		case "alembic_version":
			st.hasAlembic = true
		default:
			st.tables = append(st.tables, n)
		}
	}
	if st.hasSchemaMigrations {
		return st, nil // ours: nothing else matters
	}
	if st.hasAlembic {
		rows, err := conn.Query(ctx, `SELECT version_num FROM alembic_version ORDER BY version_num`)
		if err != nil {
			return st, fmt.Errorf("read alembic_version: %w", err)
		}
		st.alembicRevisions, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return st, fmt.Errorf("read alembic_version: %w", err)
		}
	}
	st.hasFilePath, err = columnExists(ctx, conn, "lesson_submissions", "file_path")
	if err != nil {
		return st, err
	}
	return st, nil
}

// wasAdopted reports whether a database of ours came from the original by
// adoption, in which case migration 1's tables hold the original's data.
// alembic_version is the record: adoption keeps it and the baseline never
// creates it. A database adopted from create_all leaves no such trace and
// cannot be told apart from one built by migration 1.
func wasAdopted(ctx context.Context, conn *pgx.Conn) (bool, error) {
	return tableExists(ctx, conn, "alembic_version")
}

// decide applies SCHEMA.md §3 "Adoption" to what inspect found.
func decide(st dbState) (adoptPlan, error) {
	switch {
	case st.hasSchemaMigrations:
		return adoptPlan{}, nil
	case st.hasAlembic:
		switch {
		case len(st.alembicRevisions) == 0:
			return adoptPlan{}, errors.New("refusing to adopt: alembic_version has no row")
		case len(st.alembicRevisions) > 1:
			return adoptPlan{}, fmt.Errorf("refusing to adopt: alembic_version has %d rows (%s), want one",
				len(st.alembicRevisions), strings.Join(st.alembicRevisions, ", "))
		}
		switch rev := st.alembicRevisions[0]; rev {
		case alembicHead:
			return adoptPlan{adopt: true, from: rev}, nil
		case alembicInitial:
			return adoptPlan{adopt: true, from: rev, split: true, bumpAlembic: true}, nil
		default:
			return adoptPlan{}, fmt.Errorf("refusing to adopt: unknown Alembic revision %q (want %s or %s)",
				rev, alembicHead, alembicInitial)
		}
	case len(st.tables) > 0:
		return adoptPlan{adopt: true, from: fromCreateAll, split: st.hasFilePath}, nil
	default:
		return adoptPlan{}, nil // empty: Up from 1
	}
}

// adopt brings an original database to exactly the baseline's shape: the split
// step when planned, the alembic_version bump for 33732b012934, then the
// verification, all in one transaction so a refusal leaves the database as it
// was. Recording version 1 is left to the caller (golang-migrate's Force); if
// the process dies in between, the next run sees a head Alembic (or
// create_all) database and adopts it again, which is idempotent.
func adopt(ctx context.Context, conn *pgx.Conn, plan adoptPlan) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if plan.split {
			if err := splitSubmissionFiles(ctx, tx); err != nil {
				return fmt.Errorf("split submission files: %w", err)
			}
		}
		if plan.bumpAlembic {
			// The only write to alembic_version the port ever makes: it is
			// what Alembic's own 7a2a4924f9e5 upgrade would have recorded,
			// so `alembic upgrade head` stays a no-op.
			tag, err := tx.Exec(ctx, `UPDATE alembic_version SET version_num = $1 WHERE version_num = $2`,
				alembicHead, alembicInitial)
			if err != nil {
				return fmt.Errorf("update alembic_version: %w", err)
			}
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("update alembic_version: %d rows updated, want 1", tag.RowsAffected())
			}
		}
		return verifyBaseline(ctx, tx)
	})
}

// splitSubmissionFiles is the split step of SCHEMA.md §3: the effect of Alembic
// 7a2a4924f9e5, safe where create_all already made an empty submission_files
// next to the old column. ORDER BY keeps the new ids in submission order.
func splitSubmissionFiles(ctx context.Context, tx pgx.Tx) error {
	const q = `
		CREATE TABLE IF NOT EXISTS submission_files (
			id            SERIAL       NOT NULL,
			submission_id INTEGER      NOT NULL,
			file_path     VARCHAR(512) NOT NULL,
			CONSTRAINT submission_files_pkey PRIMARY KEY (id),
			CONSTRAINT submission_files_submission_id_fkey FOREIGN KEY (submission_id)
				REFERENCES lesson_submissions (id) ON DELETE CASCADE
		);
		CREATE INDEX IF NOT EXISTS ix_submission_files_id ON submission_files (id);
		INSERT INTO submission_files (submission_id, file_path)
		SELECT id, file_path FROM lesson_submissions ls
		WHERE file_path IS NOT NULL
		  AND NOT EXISTS (
			SELECT 1 FROM submission_files sf
			WHERE sf.submission_id = ls.id AND sf.file_path = ls.file_path)
		ORDER BY id;
		ALTER TABLE lesson_submissions DROP COLUMN file_path;`
	// No arguments: pgx sends this as one simple-protocol Query, inside tx.
	_, err := tx.Exec(ctx, q)
	return err
}

// column is one expected Part 1 column and its type family.
type column struct {
	name   string
	family string
}

// baselineTables is SCHEMA.md Part 1 as verification needs it: every table
// with every column and its type family. Families, not exact types, because
// a hand-tuned original (varchar widened to text, integer to bigint) still
// works with the port's queries; a missing index is not fatal either.
var baselineTables = []struct {
	name    string
	columns []column
}{
	{"groups", []column{{"id", famInt}, {"name", famText}, {"description", famText}}},
	{"modules", []column{{"id", famInt}, {"title", famText}, {"description", famText}, {"course", famText}, {"created_at", famTime}}},
	{"users", []column{{"id", famInt}, {"full_name", famText}, {"iin", famText}, {"role", famUserRole}, {"phone", famText}, {"hashed_password", famText}, {"photo", famText}}},
	{"module_group", []column{{"module_id", famInt}, {"group_id", famInt}}},
	{"subjects", []column{{"id", famInt}, {"module_id", famInt}, {"teacher_id", famInt}, {"title", famText}}},
	{"teacher_module", []column{{"module_id", famInt}, {"teacher_id", famInt}}},
	{"user_group", []column{{"user_id", famInt}, {"group_id", famInt}}},
	{"lessons", []column{{"id", famInt}, {"subject_id", famInt}, {"title", famText}, {"type", famText}, {"description", famText}, {"content_url", famText}, {"created_at", famTime}}},
	{"lesson_submissions", []column{{"id", famInt}, {"lesson_id", famInt}, {"user_id", famInt}, {"comment", famText}, {"grade", famInt}, {"submitted_at", famTime}}},
	{"submission_files", []column{{"id", famInt}, {"submission_id", famInt}, {"file_path", famText}}},
	{"tests", []column{{"id", famInt}, {"title", famText}, {"subject_id", famInt}, {"lesson_id", famInt}}},
	{"questions", []column{{"id", famInt}, {"test_id", famInt}, {"question_text", famText}, {"correct_option_index", famInt}}},
	{"options", []column{{"id", famInt}, {"question_id", famInt}, {"option_text", famText}, {"option_index", famInt}}},
	{"results", []column{{"id", famInt}, {"user_id", famInt}, {"lesson_id", famInt}, {"test_id", famInt}, {"score", famFloat}, {"submitted_at", famTime}}},
}

// Type families used by verification.
const (
	famInt      = "integer"
	famText     = "text"
	famFloat    = "floating point"
	famTime     = "timestamp"
	famUserRole = "userrole enum"
)

// typeFamily maps information_schema's data_type (and udt_name, for enums)
// to a family; unknown types map to their own name and so never match.
func typeFamily(dataType, udtName string) string {
	switch dataType {
	case "smallint", "integer", "bigint":
		return famInt
	case "character varying", "character", "text":
		return famText
	case "double precision", "real":
		return famFloat
	case "timestamp without time zone", "timestamp with time zone":
		return famTime
	case "USER-DEFINED":
		if udtName == "userrole" {
			return famUserRole
		}
		return udtName
	}
	return dataType
}

// verifyBaseline checks SCHEMA.md §3 "Verification": every Part 1 table with
// every Part 1 column (name and type family), and no lesson_submissions.file_path.
// The error lists everything that is off, so one refusal tells the operator all.
func verifyBaseline(ctx context.Context, tx pgx.Tx) error {
	const q = `
		SELECT table_name, column_name, data_type, udt_name
		FROM information_schema.columns
		WHERE table_schema = current_schema()`
	rows, err := tx.Query(ctx, q)
	if err != nil {
		return fmt.Errorf("verify: list columns: %w", err)
	}
	type colInfo struct{ dataType, udtName string }
	found := map[string]map[string]colInfo{}
	var table, col string
	var info colInfo
	_, err = pgx.ForEachRow(rows, []any{&table, &col, &info.dataType, &info.udtName}, func() error {
		if found[table] == nil {
			found[table] = map[string]colInfo{}
		}
		found[table][col] = info
		return nil
	})
	if err != nil {
		return fmt.Errorf("verify: list columns: %w", err)
	}

	var problems []string
	for _, t := range baselineTables {
		cols, ok := found[t.name]
		if !ok {
			problems = append(problems, "missing table "+t.name)
			continue
		}
		for _, c := range t.columns {
			got, ok := cols[c.name]
			switch {
			case !ok:
				problems = append(problems, "missing column "+t.name+"."+c.name)
			case typeFamily(got.dataType, got.udtName) != c.family:
				problems = append(problems, fmt.Sprintf("column %s.%s has type %s, want %s",
					t.name, c.name, displayType(got.dataType, got.udtName), c.family))
			}
		}
	}
	if _, ok := found["lesson_submissions"]["file_path"]; ok {
		problems = append(problems, "unexpected column lesson_submissions.file_path (submission files not split)")
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("refusing to adopt: database does not match the original schema: %s",
			strings.Join(problems, "; "))
	}
	return nil
}

// displayType names a column type for the refusal message.
func displayType(dataType, udtName string) string {
	if dataType == "USER-DEFINED" {
		return udtName
	}
	return dataType
}

// tableExists reports whether a table (or view) exists in the current schema.
func tableExists(ctx context.Context, conn *pgx.Conn, table string) (bool, error) {
	const q = `
		SELECT EXISTS (
			SELECT 1 FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name = $1)`
	var ok bool
	if err := conn.QueryRow(ctx, q, table).Scan(&ok); err != nil {
		return false, fmt.Errorf("check table %s: %w", table, err)
	}
	return ok, nil
}

// columnExists reports whether table.column exists in the current schema.
func columnExists(ctx context.Context, conn *pgx.Conn, table, column string) (bool, error) {
	const q = `
		SELECT EXISTS (
			SELECT 1 FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2)`
	var ok bool
	if err := conn.QueryRow(ctx, q, table, column).Scan(&ok); err != nil {
		return false, fmt.Errorf("check column %s.%s: %w", table, column, err)
	}
	return ok, nil
}

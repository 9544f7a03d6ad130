package grades

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"platform/internal/db"
	"platform/internal/timefmt"
)

// Repo is the SQL of the grade summary.
type Repo struct {
	q db.DBTX
}

// NewRepo returns a Repo on a pool or a transaction.
func NewRepo(q db.DBTX) *Repo { return &Repo{q: q} }

// SummarySQL is the grade summary of the user ($1) in one statement,
// whatever the number of rows: homework by
// submission id, then test results by result id. Rows without a lesson are
// skipped (the summary names the lesson). due_at (issue 24) is the
// lesson's deadline as it applies to the user (their extension's or the
// lesson's); late is the submission's flag, null for test results. The naive submission time is read
// as UTC so both halves share the timestamptz type. Its SELECT list is
// what scanGrade reads, by position (exported for loadtest/bench).
const SummarySQL = `
SELECT submission_id, lesson_id, lesson_title, lesson_type, subject_title, module_title,
       grade, submitted_at, source, due_at, late
FROM (
    SELECT 0 AS part, ls.id AS submission_id, l.id AS lesson_id, l.title AS lesson_title,
           l.type AS lesson_type, s.title AS subject_title, m.title AS module_title,
           ls.grade::double precision AS grade, ls.submitted_at AT TIME ZONE 'UTC' AS submitted_at,
           'submission' AS source,
           coalesce(e.due_at, l.due_at) AT TIME ZONE 'UTC' AS due_at, ls.late_seconds IS NOT NULL AS late
    FROM lesson_submissions ls
    JOIN lessons l ON l.id = ls.lesson_id
    JOIN subjects s ON s.id = l.subject_id
    JOIN modules m ON m.id = s.module_id
    LEFT JOIN lesson_extensions e ON e.lesson_id = l.id AND e.user_id = $1
    WHERE ls.user_id = $1
    UNION ALL
    SELECT 1, r.id, l.id, l.title, 'тест', s.title, m.title, r.score, r.submitted_at, 'test',
           coalesce(e.due_at, l.due_at) AT TIME ZONE 'UTC', NULL::boolean
    FROM results r
    JOIN lessons l ON l.id = r.lesson_id
    JOIN subjects s ON s.id = l.subject_id
    JOIN modules m ON m.id = s.module_id
    LEFT JOIN lesson_extensions e ON e.lesson_id = l.id AND e.user_id = $1
    WHERE r.user_id = $1
) g
ORDER BY part, submission_id`

// ForUser is the user's grade summary: one student's rows, a few hundred
// at most, read whole.
func (repo *Repo) ForUser(ctx context.Context, userID int32) ([]Grade, error) {
	rows, err := repo.q.Query(ctx, SummarySQL, userID)
	if err != nil {
		return nil, fmt.Errorf("grades: summary: %w", err)
	}
	gs, err := pgx.CollectRows(rows, scanGrade)
	if err != nil {
		return nil, fmt.Errorf("grades: summary: %w", err)
	}
	return gs, nil
}

// scanGrade scans one summary row by position (no by-name reflection), the
// nullable columns into pgtype values: scanning into a **T makes pgx
// allocate through reflect for every row.
func scanGrade(row pgx.CollectableRow) (Grade, error) {
	var g Grade
	var grade pgtype.Float8
	var at, due pgtype.Timestamptz
	var late pgtype.Bool
	err := row.Scan(&g.SubmissionID, &g.LessonID, &g.LessonTitle, &g.LessonType, &g.SubjectTitle,
		&g.ModuleTitle, &grade, &at, &g.Source, &due, &late)
	if grade.Valid {
		g.Grade = &grade.Float64
	}
	if g.SubmittedAt, err = optTime(at, "submitted_at", err); err != nil {
		return g, err
	}
	if g.DueAt, err = optTime(due, "due_at", err); err != nil {
		return g, err
	}
	if late.Valid {
		g.Late = &late.Bool
	}
	return g, err
}

// optTime is a nullable timestamptz as a *timefmt.Time; an infinite one
// is an error, as scanning into a time.Time refuses it. err passes through.
func optTime(v pgtype.Timestamptz, name string, err error) (*timefmt.Time, error) {
	if err != nil || !v.Valid {
		return nil, err
	}
	if v.InfinityModifier != pgtype.Finite {
		return nil, fmt.Errorf("%s is %v", name, v.InfinityModifier)
	}
	return &timefmt.Time{Time: v.Time}, nil
}

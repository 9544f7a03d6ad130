package grades

import (
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

// summarySQL is the grade summary of the user ($1) in one statement,
// whatever the number of rows (the endpoint is a hot read): homework by
// submission id, then test results by result id. Rows without a lesson are
// skipped (the summary names the lesson). The naive submission time is read
// as UTC so both halves share the timestamptz type. Its SELECT list is
// what scanGrade and the raw encoder (raw.go) read, by position.
const summarySQL = `
SELECT submission_id, lesson_id, lesson_title, lesson_type, subject_title, module_title,
       grade, submitted_at, source
FROM (
    SELECT 0 AS part, ls.id AS submission_id, l.id AS lesson_id, l.title AS lesson_title,
           l.type AS lesson_type, s.title AS subject_title, m.title AS module_title,
           ls.grade::double precision AS grade, ls.submitted_at AT TIME ZONE 'UTC' AS submitted_at,
           'submission' AS source
    FROM lesson_submissions ls
    JOIN lessons l ON l.id = ls.lesson_id
    JOIN subjects s ON s.id = l.subject_id
    JOIN modules m ON m.id = s.module_id
    WHERE ls.user_id = $1
    UNION ALL
    SELECT 1, r.id, l.id, l.title, 'тест', s.title, m.title, r.score, r.submitted_at, 'test'
    FROM results r
    JOIN lessons l ON l.id = r.lesson_id
    JOIN subjects s ON s.id = l.subject_id
    JOIN modules m ON m.id = s.module_id
    WHERE r.user_id = $1
) g
ORDER BY part, submission_id`

// scanGrade scans one summary row by position (no by-name reflection), the
// nullable columns into pgtype values: scanning into a **T makes pgx
// allocate through reflect for every row.
func scanGrade(row pgx.CollectableRow) (Grade, error) {
	var g Grade
	var grade pgtype.Float8
	var at pgtype.Timestamptz
	err := row.Scan(&g.SubmissionID, &g.LessonID, &g.LessonTitle, &g.LessonType, &g.SubjectTitle,
		&g.ModuleTitle, &grade, &at, &g.Source)
	if grade.Valid {
		g.Grade = &grade.Float64
	}
	if at.Valid {
		if at.InfinityModifier != pgtype.Finite {
			return g, fmt.Errorf("submitted_at is %v", at.InfinityModifier) // as scanning into a time.Time refuses it
		}
		g.SubmittedAt = &timefmt.Time{Time: at.Time}
	}
	return g, err
}

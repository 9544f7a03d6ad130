package grades

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"platform/internal/db"
)

// Repo is the SQL of the grade summary.
type Repo struct {
	q db.DBTX
}

// NewRepo returns a Repo on a pool or a transaction.
func NewRepo(q db.DBTX) *Repo { return &Repo{q: q} }

// ForUser is the grade summary of the user in one query, whatever the
// number of rows (the endpoint is a hot read): homework by submission id,
// then test results by result id. Rows without a lesson are skipped (the
// summary names the lesson). The naive submission time is read as UTC so
// both halves share the timestamptz type.
func (repo *Repo) ForUser(ctx context.Context, userID int32) ([]Grade, error) {
	const q = `
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
	rows, err := repo.q.Query(ctx, q, userID)
	if err != nil {
		return nil, fmt.Errorf("grades: summary: %w", err)
	}
	// By position, in the order of the SELECT list (no by-name reflection).
	gs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Grade, error) {
		var g Grade
		err := row.Scan(&g.SubmissionID, &g.LessonID, &g.LessonTitle, &g.LessonType, &g.SubjectTitle,
			&g.ModuleTitle, &g.Grade, &g.SubmittedAt, &g.Source)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("grades: summary: %w", err)
	}
	return gs, nil
}

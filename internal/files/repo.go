package files

import (
	"context"
	"fmt"

	"platform/internal/auth"
	"platform/internal/db"
)

// Repo is the SQL of the download authorization.
type Repo struct {
	q db.DBTX
}

// NewRepo returns a Repo on a pool or a transaction.
func NewRepo(q db.DBTX) *Repo { return &Repo{q: q} }

// MayReadHomework reports whether u owns a submission with the stored file
// path, or (as a teacher) teaches the subject of that submission's lesson.
// A path no submission holds is readable by admins only, decided by the caller.
func (repo *Repo) MayReadHomework(ctx context.Context, u auth.User, stored string) (bool, error) {
	const q = `
SELECT EXISTS (
    SELECT 1
    FROM submission_files sf
    JOIN lesson_submissions ls ON ls.id = sf.submission_id
    LEFT JOIN lessons l ON l.id = ls.lesson_id
    LEFT JOIN subjects s ON s.id = l.subject_id
    WHERE sf.file_path = $1
      AND (ls.user_id = $2 OR ($3 AND s.teacher_id = $2)))`
	var ok bool
	if err := repo.q.QueryRow(ctx, q, stored, u.ID, u.Role == auth.Teacher).Scan(&ok); err != nil {
		return false, fmt.Errorf("files: homework owner: %w", err)
	}
	return ok, nil
}

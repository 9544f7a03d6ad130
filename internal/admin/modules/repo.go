package modules

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"platform/internal/admin/internal/shared"
	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/catalog"
	"platform/internal/db"
	"platform/internal/web"
)

// repo is the SQL of /admin/modules, on a pool or inside a transaction.
type repo struct {
	db db.DBTX
}

func newRepo(q db.DBTX) *repo { return &repo{db: q} }

// insertModule creates a module dated now (UTC wall clock, naive column).
func (r *repo) insertModule(ctx context.Context, title string, course, desc *string) (catalog.ModuleBrief, error) {
	const q = `
INSERT INTO modules (title, course, description, created_at)
VALUES ($1, $2, $3, now() AT TIME ZONE 'UTC')
RETURNING id, title, course, description, created_at`
	rows, err := r.db.Query(ctx, q, title, course, desc)
	return shared.One[catalog.ModuleBrief](rows, err, "insert module")
}

// updateModule changes the present fields; shared.ErrNotFound when no such module.
func (r *repo) updateModule(ctx context.Context, id int32, u moduleUpdate) (catalog.ModuleBrief, error) {
	const q = `
UPDATE modules SET
    title = CASE WHEN $2 THEN $3 ELSE title END,
    course = CASE WHEN $4 THEN $5 ELSE course END,
    description = CASE WHEN $6 THEN $7 ELSE description END
WHERE id = $1
RETURNING id, title, course, description, created_at`
	rows, err := r.db.Query(ctx, q, id, u.SetTitle, u.Title, u.SetCourse, u.Course, u.SetDesc, u.Desc)
	return shared.One[catalog.ModuleBrief](rows, err, "update module")
}

// moduleExists checks the module exists (404 "Модуль не найден" otherwise),
// optionally locking it ("", "FOR UPDATE", "FOR NO KEY UPDATE": constants
// of the caller, never input).
func (r *repo) moduleExists(ctx context.Context, id int32, lock string) error {
	return shared.RequireRow(ctx, r.db, "load module", msgModuleNotFound, `SELECT 1 FROM modules WHERE id = $1 `+lock, id)
}

// lockSubject locks the subject for deletion (404 "Предмет не найден" when missing).
func (r *repo) lockSubject(ctx context.Context, id int32) error {
	return shared.RequireRow(ctx, r.db, "lock subject", msgSubjectNotFound, `SELECT 1 FROM subjects WHERE id = $1 FOR UPDATE`, id)
}

// treeChunk is how many modules moduleTrees loads per round of statements:
// a page of any length is read and written chunk by chunk, so memory holds
// at most one chunk's subjects and lessons.
const treeChunk = 50

// treePart is one chunk of moduleTrees: modules by id, their subjects (with
// lessons) by id, and, when asked, the subjects' teachers by id.
type treePart struct {
	modules  []catalog.ModuleBrief
	subjects []subjectLessons
	teachers map[int32]*auth.User
}

// moduleTrees reads the page of modules by id (LIMIT/OFFSET in SQL on the
// primary key) and hands them to fn a chunk at a time, each chunk in three
// statements (four withTeachers) bounded by its module ids.
func (r *repo) moduleTrees(ctx context.Context, p web.Page, withTeachers bool, fn func(treePart) error) error {
	const qi = `SELECT id FROM modules WHERE id > $3 ORDER BY id LIMIT $1 OFFSET $2`
	rows, err := r.db.Query(ctx, qi, p.Limit, p.Offset, p.AfterID)
	if err != nil {
		return fmt.Errorf("admin: list modules: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return fmt.Errorf("admin: list modules: %w", err)
	}
	for len(ids) > 0 {
		chunk := ids[:min(treeChunk, len(ids))]
		ids = ids[len(chunk):]
		part, err := r.treePart(ctx, chunk, withTeachers)
		if err != nil {
			return err
		}
		if err := fn(part); err != nil {
			return err
		}
	}
	return nil
}

// treePart loads the modules of ids with their subjects and lessons.
func (r *repo) treePart(ctx context.Context, ids []int32, withTeachers bool) (treePart, error) {
	const qm = `SELECT id, title, course, description, created_at FROM modules WHERE id = ANY($1) ORDER BY id`
	rows, err := r.db.Query(ctx, qm, ids)
	modules, err := shared.All[catalog.ModuleBrief](rows, err, "list modules")
	if err != nil {
		return treePart{}, err
	}
	const qs = `SELECT id, title, module_id, teacher_id FROM subjects WHERE module_id = ANY($1) ORDER BY id`
	rows, err = r.db.Query(ctx, qs, ids)
	subjects, err := shared.All[subjectLessons](rows, err, "list subjects")
	if err != nil {
		return treePart{}, err
	}
	// By the subject ids just read, not a subquery: the planner then probes
	// ix_lessons_subject_id for this chunk's lessons instead of walking every
	// lesson in id order (a district has 200 k).
	subjectIDs := make([]int32, len(subjects))
	teacherIDs := make([]int32, 0, len(subjects))
	for i, s := range subjects {
		subjectIDs[i] = s.ID
		if s.TeacherID != nil {
			teacherIDs = append(teacherIDs, *s.TeacherID)
		}
	}
	const ql = `
SELECT id, title, type, content_url, subject_id FROM lessons
WHERE subject_id = ANY($1)
ORDER BY id`
	if err := r.attachLessons(ctx, ql, subjectIDs, subjects); err != nil {
		return treePart{}, err
	}
	part := treePart{modules: modules, subjects: subjects}
	if withTeachers {
		const qt = `
SELECT id, iin, full_name, phone, role::text AS role, photo FROM users
WHERE id = ANY($1)
ORDER BY id`
		rows, err = r.db.Query(ctx, qt, teacherIDs)
		teachers, err := shared.All[auth.User](rows, err, "subject teachers")
		if err != nil {
			return treePart{}, err
		}
		part.teachers = make(map[int32]*auth.User, len(teachers))
		for i := range teachers {
			part.teachers[teachers[i].ID] = &teachers[i]
		}
	}
	return part, nil
}

// attachLessons runs sql (lessons: id, title, type, content_url, subject_id
// of the subjects ids) and appends each lesson to its subject. Scanned by
// position: a page holds thousands of lessons, and the scan by name cost
// more than every other step of the list together.
func (r *repo) attachLessons(ctx context.Context, sql string, ids []int32, subjects []subjectLessons) error {
	at := make(map[int32]int, len(subjects))
	for i := range subjects {
		subjects[i].Lessons = []catalog.LessonShort{}
		at[subjects[i].ID] = i
	}
	rows, err := r.db.Query(ctx, sql, ids)
	if err != nil {
		return fmt.Errorf("admin: list lessons: %w", err)
	}
	defer rows.Close()
	var l catalog.LessonShort
	var subjectID int32
	for rows.Next() {
		if err := rows.Scan(&l.ID, &l.Title, &l.Type, &l.ContentURL, &subjectID); err != nil {
			return fmt.Errorf("admin: list lessons: %w", err)
		}
		if i, ok := at[subjectID]; ok {
			subjects[i].Lessons = append(subjects[i].Lessons, l)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("admin: list lessons: %w", err)
	}
	return nil
}

// insertSubject adds a subject without a teacher, refusing a title equal
// (case-insensitively, compared exactly: % and _ are ordinary characters)
// to one already in the module. The titles are compared here rather than
// with SQL lower(), which folds Cyrillic only under a UTF-8-aware LC_CTYPE
// (an adopted database may use "C").
func (r *repo) insertSubject(ctx context.Context, moduleID int32, title string) (catalog.Subject, error) {
	const dup = `SELECT title FROM subjects WHERE module_id = $1`
	rows, err := r.db.Query(ctx, dup, moduleID)
	if err != nil {
		return catalog.Subject{}, fmt.Errorf("admin: subject duplicate: %w", err)
	}
	titles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return catalog.Subject{}, fmt.Errorf("admin: subject duplicate: %w", err)
	}
	folded := strings.ToLower(title)
	if slices.ContainsFunc(titles, func(t string) bool { return strings.ToLower(t) == folded }) {
		return catalog.Subject{}, apperr.BadRequest(msgSubjectExists)
	}
	const q = `
INSERT INTO subjects (module_id, title) VALUES ($1, $2)
RETURNING id, title, module_id, teacher_id`
	rows, err = r.db.Query(ctx, q, moduleID, title)
	return shared.One[catalog.Subject](rows, err, "insert subject")
}

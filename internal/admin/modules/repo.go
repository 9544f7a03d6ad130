package modules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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

// errNotFound marks a missing row; handlers answer their endpoint's own 404 text.
var errNotFound = errors.New("admin: not found")

// insertModule creates a module dated now (UTC wall clock, naive column).
func (r *repo) insertModule(ctx context.Context, title string, course, desc *string) (catalog.ModuleBrief, error) {
	const q = `
INSERT INTO modules (title, course, description, created_at)
VALUES ($1, $2, $3, now() AT TIME ZONE 'UTC')
RETURNING id, title, course, description, created_at`
	return db.One[catalog.ModuleBrief](ctx, r.db, "admin: insert module", errNotFound, q, title, course, desc)
}

// updateModule changes the present fields; errNotFound when no such module.
func (r *repo) updateModule(ctx context.Context, id int32, u moduleUpdate) (catalog.ModuleBrief, error) {
	const q = `
UPDATE modules SET
    title = CASE WHEN $2 THEN $3 ELSE title END,
    course = CASE WHEN $4 THEN $5 ELSE course END,
    description = CASE WHEN $6 THEN $7 ELSE description END
WHERE id = $1
RETURNING id, title, course, description, created_at`
	return db.One[catalog.ModuleBrief](ctx, r.db, "admin: update module", errNotFound, q, id, u.SetTitle, u.Title, u.SetCourse, u.Course, u.SetDesc, u.Desc)
}

// moduleExists checks the module exists (404 "Модуль не найден" otherwise),
// optionally locking it ("", "FOR UPDATE", "FOR NO KEY UPDATE": constants
// of the caller, never input).
func (r *repo) moduleExists(ctx context.Context, id int32, lock string) error {
	_, err := db.One[int32](ctx, r.db, "admin: load module", apperr.NotFound(msgModuleNotFound), `SELECT 1 FROM modules WHERE id = $1 `+lock, id)
	return err
}

// lockSubject locks the subject for deletion (404 "Предмет не найден" when missing).
func (r *repo) lockSubject(ctx context.Context, id int32) error {
	_, err := db.One[int32](ctx, r.db, "admin: lock subject", apperr.NotFound(msgSubjectNotFound), `SELECT 1 FROM subjects WHERE id = $1 FOR UPDATE`, id)
	return err
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
	ids, err := db.All[int32](ctx, r.db, "admin: list modules", qi, p.Limit, p.Offset, p.AfterID)
	if err != nil {
		return err
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
	modules, err := db.All[catalog.ModuleBrief](ctx, r.db, "admin: list modules", qm, ids)
	if err != nil {
		return treePart{}, err
	}
	const qs = `SELECT id, title, module_id, teacher_id FROM subjects WHERE module_id = ANY($1) ORDER BY id`
	subjects, err := db.All[subjectLessons](ctx, r.db, "admin: list subjects", qs, ids)
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
		teachers, err := db.All[auth.User](ctx, r.db, "admin: subject teachers", qt, teacherIDs)
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
	titles, err := db.All[string](ctx, r.db, "admin: subject duplicate", dup, moduleID)
	if err != nil {
		return catalog.Subject{}, err
	}
	folded := strings.ToLower(title)
	if slices.ContainsFunc(titles, func(t string) bool { return strings.ToLower(t) == folded }) {
		return catalog.Subject{}, apperr.BadRequest(msgSubjectExists)
	}
	const q = `
INSERT INTO subjects (module_id, title) VALUES ($1, $2)
RETURNING id, title, module_id, teacher_id`
	return db.One[catalog.Subject](ctx, r.db, "admin: insert subject", errNotFound, q, moduleID, title)
}

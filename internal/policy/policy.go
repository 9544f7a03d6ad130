// Package policy holds the object-level access rules of API.md §0.6: who may
// read a module, subject, lesson or test, and who may manage a subject. The
// role guards (auth) come first; these rules come on top, checked against
// the database, never against ids the client vouches for.
package policy

import (
	"context"
	"errors"
	"fmt"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
)

// Subject is what the rules need to know about a subject.
type Subject struct {
	ID        int32  `db:"id"`
	ModuleID  int32  `db:"module_id"`
	TeacherID *int32 `db:"teacher_id"`
}

// ErrNotFound is returned when the looked-up row does not exist; callers
// answer their endpoint's own 404 text.
var ErrNotFound = errors.New("policy: not found")

// LoadSubject reads the subject with the id.
func LoadSubject(ctx context.Context, q db.DBTX, id int32) (Subject, error) {
	const sql = `SELECT id, module_id, teacher_id FROM subjects WHERE id = $1`
	return one(ctx, q, sql, id)
}

// LessonSubject reads the subject of the lesson with the id.
func LessonSubject(ctx context.Context, q db.DBTX, lessonID int32) (Subject, error) {
	const sql = `
SELECT s.id, s.module_id, s.teacher_id
FROM lessons l JOIN subjects s ON s.id = l.subject_id
WHERE l.id = $1`
	return one(ctx, q, sql, lessonID)
}

// TestSubject reads the subject of the test (quiz) with the id.
func TestSubject(ctx context.Context, q db.DBTX, testID int32) (Subject, error) {
	const sql = `
SELECT s.id, s.module_id, s.teacher_id
FROM tests t JOIN subjects s ON s.id = t.subject_id
WHERE t.id = $1`
	return one(ctx, q, sql, testID)
}

func one(ctx context.Context, q db.DBTX, sql string, id int32) (Subject, error) {
	return db.One[Subject](ctx, q, "policy: load subject", ErrNotFound, sql, id)
}

// RequireManage is the prologue of an endpoint that manages a subject,
// taking what a loader (LoadSubject, LessonSubject, …) returned: a missing
// row (ErrNotFound) answers 404 missing, a subject u does not manage 403
// denied; any other error is returned as is.
func RequireManage(u auth.User, s Subject, err error, missing, denied string) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return apperr.NotFound(missing)
	case err != nil:
		return err
	case !CanManage(u, s):
		return apperr.Forbidden(denied)
	}
	return nil
}

// CanManage reports whether u manages subject s: admins always, a teacher
// when they teach it, students never.
func CanManage(u auth.User, s Subject) bool {
	switch u.Role {
	case auth.Admin:
		return true
	case auth.Teacher:
		return s.TeacherID != nil && *s.TeacherID == u.ID
	}
	return false
}

// StudentReads is the student read rule of §0.6, written once for every
// query that applies it: a derived table (user_id, group_id, module_id,
// subject_id) of what a student reaches through their groups (user_group),
// group_id naming the group that gives the row. A group's
// module link (module_group) gives a row for each subject of the module
// (one row with a NULL subject_id when the module has none yet); a group's
// subject link (subject_group) gives that subject's row. Hence:
//
//   - student u reads module M (and has M among their modules) when a row
//     has user_id = u and module_id = M;
//   - student u reads subject S (and S is among M's visible subjects) when a
//     row has user_id = u and subject_id = S; lessons and tests follow
//     their subject;
//   - the groups that see subject S (the gradebook's) are the group_id of
//     the rows with subject_id = S.
//
// Use it with EXISTS, correlated on the row being filtered:
//
//	`… AND EXISTS (SELECT 1 FROM ` + policy.StudentReads + ` r WHERE r.user_id = $1 AND r.subject_id = s.id)`
//
// PostgreSQL flattens the UNION ALL and pushes both conditions into each
// branch, so a check costs a few primary-key and foreign-key index probes.
// Admins and teachers read everything; callers skip the rule for them.
const StudentReads = `(
SELECT ug.user_id, ug.group_id, mg.module_id, s.id AS subject_id
FROM user_group ug
JOIN module_group mg ON mg.group_id = ug.group_id
LEFT JOIN subjects s ON s.module_id = mg.module_id
UNION ALL
SELECT ug.user_id, ug.group_id, s.module_id, s.id
FROM user_group ug
JOIN subject_group sg ON sg.group_id = ug.group_id
JOIN subjects s ON s.id = sg.subject_id)`

// CanReadSubject reports whether u may read subject s: admins and teachers
// always; a student by StudentReads.
func CanReadSubject(ctx context.Context, q db.DBTX, u auth.User, s Subject) (bool, error) {
	if u.Role != auth.Student {
		return true, nil
	}
	const sql = `SELECT EXISTS (SELECT 1 FROM ` + StudentReads + ` r WHERE r.user_id = $1 AND r.subject_id = $2)`
	var ok bool
	if err := q.QueryRow(ctx, sql, u.ID, s.ID).Scan(&ok); err != nil {
		return false, fmt.Errorf("policy: read subject: %w", err)
	}
	return ok, nil
}

// CanReadModule reports whether u may read module m: admins and teachers
// always; a student by StudentReads.
func CanReadModule(ctx context.Context, q db.DBTX, u auth.User, moduleID int32) (bool, error) {
	if u.Role != auth.Student {
		return true, nil
	}
	const sql = `SELECT EXISTS (SELECT 1 FROM ` + StudentReads + ` r WHERE r.user_id = $1 AND r.module_id = $2)`
	var ok bool
	if err := q.QueryRow(ctx, sql, u.ID, moduleID).Scan(&ok); err != nil {
		return false, fmt.Errorf("policy: read module: %w", err)
	}
	return ok, nil
}

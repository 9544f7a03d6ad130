// Package policy holds the object-level access rules of API.md §0.6: who may
// read a module, subject, lesson or test, and who may manage a subject. The
// role guards (auth) come first; these rules come on top, checked against
// the database, never against ids the client vouches for.
package policy

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	rows, err := q.Query(ctx, sql, id)
	if err != nil {
		return Subject{}, fmt.Errorf("policy: load subject: %w", err)
	}
	s, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Subject])
	if errors.Is(err, pgx.ErrNoRows) {
		return Subject{}, ErrNotFound
	}
	if err != nil {
		return Subject{}, fmt.Errorf("policy: load subject: %w", err)
	}
	return s, nil
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

// CanReadSubject reports whether u may read subject s: admins and teachers
// always; a student when one of their groups is linked to the subject's
// module or to the subject itself.
func CanReadSubject(ctx context.Context, q db.DBTX, u auth.User, s Subject) (bool, error) {
	if u.Role != auth.Student {
		return true, nil
	}
	const sql = `
SELECT EXISTS (
    SELECT 1 FROM user_group ug
    WHERE ug.user_id = $1
      AND (EXISTS (SELECT 1 FROM module_group mg WHERE mg.group_id = ug.group_id AND mg.module_id = $2)
        OR EXISTS (SELECT 1 FROM subject_group sg WHERE sg.group_id = ug.group_id AND sg.subject_id = $3)))`
	var ok bool
	if err := q.QueryRow(ctx, sql, u.ID, s.ModuleID, s.ID).Scan(&ok); err != nil {
		return false, fmt.Errorf("policy: read subject: %w", err)
	}
	return ok, nil
}

// CanReadModule reports whether u may read module m: admins and teachers
// always; a student when one of their groups is linked to the module or to
// one of its subjects.
func CanReadModule(ctx context.Context, q db.DBTX, u auth.User, moduleID int32) (bool, error) {
	if u.Role != auth.Student {
		return true, nil
	}
	const sql = `
SELECT EXISTS (
    SELECT 1 FROM user_group ug
    WHERE ug.user_id = $1
      AND (EXISTS (SELECT 1 FROM module_group mg WHERE mg.group_id = ug.group_id AND mg.module_id = $2)
        OR EXISTS (SELECT 1 FROM subject_group sg JOIN subjects s ON s.id = sg.subject_id
                   WHERE sg.group_id = ug.group_id AND s.module_id = $2)))`
	var ok bool
	if err := q.QueryRow(ctx, sql, u.ID, moduleID).Scan(&ok); err != nil {
		return false, fmt.Errorf("policy: read module: %w", err)
	}
	return ok, nil
}

// StudentSubjectsSQL selects the ids of every subject student $1 may read
// (§0.6), for list queries that filter many subjects in one statement:
// `… WHERE s.id IN (` + policy.StudentSubjectsSQL + `)`.
const StudentSubjectsSQL = `
SELECT s.id FROM subjects s
WHERE EXISTS (SELECT 1 FROM user_group ug JOIN module_group mg ON mg.group_id = ug.group_id
              WHERE ug.user_id = $1 AND mg.module_id = s.module_id)
   OR EXISTS (SELECT 1 FROM user_group ug JOIN subject_group sg ON sg.group_id = ug.group_id
              WHERE ug.user_id = $1 AND sg.subject_id = s.id)`

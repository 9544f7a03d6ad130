// Package purge deletes rows together with everything that depends on them,
// as API.md §0.8 lays out, inside the caller's transaction. Each function
// returns the files the deleted rows owned; the caller removes them with
// Files.Remove only after the commit, so a rolled-back delete loses no file.
// Every function costs a fixed number of statements whatever the row count.
package purge

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/internal/db"
	"platform/internal/storage"
)

// Files are what deleted rows leave on disk.
type Files struct {
	Stored []string // stored strings ("static/…", "/static/lesson_docs/…")
	Dirs   []string // directories under the static root
}

// Remove deletes the files, best effort (failures are logged by the store).
func (f Files) Remove(ctx context.Context, s storage.Store) {
	storage.RemoveStored(ctx, s, f.Stored...)
	for _, d := range f.Dirs {
		s.RemoveDir(ctx, d)
	}
}

// InlineRemoval bounds the removal a delete makes right after its commit
// (RemoveNow): long enough for a healthy store, short enough that a store
// outage does not hold the response; the queued removal job does the rest.
const InlineRemoval = 3 * time.Second

// RemoveNow is Remove within InlineRemoval, for the request that committed
// the delete: the files are gone when the response arrives, unless the
// store is slow or down.
func (f Files) RemoveNow(ctx context.Context, s storage.Store) {
	ctx, cancel := context.WithTimeout(ctx, InlineRemoval)
	defer cancel()
	f.Remove(ctx, s)
}

// exec runs the statements in order with the same arguments.
func exec(ctx context.Context, tx pgx.Tx, what string, qs []string, args ...any) error {
	for _, q := range qs {
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("purge: %s: %w", what, err)
		}
	}
	return nil
}

// Submissions deletes homework submissions and their submission_files.
func Submissions(ctx context.Context, tx pgx.Tx, ids []int32) (Files, error) {
	if len(ids) == 0 {
		return Files{}, nil
	}
	paths, err := db.All[string](ctx, tx, "purge: submission files", `SELECT file_path FROM submission_files WHERE submission_id = ANY($1) AND file_path <> ''`, ids)
	if err != nil {
		return Files{}, err
	}
	err = exec(ctx, tx, "submissions", []string{
		`DELETE FROM submission_files WHERE submission_id = ANY($1)`,
		`DELETE FROM lesson_submissions WHERE id = ANY($1)`,
	}, ids)
	return Files{Stored: paths}, err
}

// Tests deletes quizzes with their questions, options and results.
func Tests(ctx context.Context, tx pgx.Tx, ids []int32) error {
	if len(ids) == 0 {
		return nil
	}
	return exec(ctx, tx, "tests", []string{
		`DELETE FROM options WHERE question_id IN (SELECT id FROM questions WHERE test_id = ANY($1))`,
		`DELETE FROM questions WHERE test_id = ANY($1)`,
		`DELETE FROM results WHERE test_id = ANY($1)`,
		`DELETE FROM tests WHERE id = ANY($1)`,
	}, ids)
}

// Lessons deletes lessons with their submissions and results; tests linked
// to them are kept and unlinked. Files: the submissions' files, each
// lesson's homework directory, and uploaded documents no remaining lesson uses.
func Lessons(ctx context.Context, tx pgx.Tx, ids []int32) (Files, error) {
	if len(ids) == 0 {
		return Files{}, nil
	}
	subIDs, err := db.All[int32](ctx, tx, "purge: lesson submissions", `SELECT id FROM lesson_submissions WHERE lesson_id = ANY($1)`, ids)
	if err != nil {
		return Files{}, err
	}
	files, err := Submissions(ctx, tx, subIDs)
	if err != nil {
		return Files{}, err
	}
	if err := exec(ctx, tx, "lesson dependents", []string{
		`DELETE FROM results WHERE lesson_id = ANY($1)`,
		`UPDATE tests SET lesson_id = NULL WHERE lesson_id = ANY($1)`,
	}, ids); err != nil {
		return Files{}, err
	}
	urls, err := db.All[string](ctx, tx, "purge: lessons", `DELETE FROM lessons WHERE id = ANY($1) RETURNING content_url`, ids)
	if err != nil {
		return Files{}, err
	}
	docs, err := unusedDocs(ctx, tx, urls)
	if err != nil {
		return Files{}, err
	}
	files.Stored = append(files.Stored, docs...)
	for _, id := range ids {
		files.Dirs = append(files.Dirs, homeworkDir(id))
	}
	return files, nil
}

// unusedDocs picks, from the content_url values of deleted lessons, the
// documents to remove: only values exactly in the canonical form of an
// upload (storage.LessonDoc: "/static/lesson_docs/<name>"), and only when no
// remaining lesson has that exact value. Every other content_url is inert
// text (API.md §8): it never names a file, so it neither condemns nor keeps
// one. One statement, answered by ix_lessons_content_url (an index probe per
// document), whatever the number of lessons.
func unusedDocs(ctx context.Context, tx pgx.Tx, urls []string) ([]string, error) {
	var docs []string
	for _, u := range urls {
		if _, ok := storage.LessonDoc(u); ok && !slices.Contains(docs, u) {
			docs = append(docs, u)
		}
	}
	if len(docs) == 0 {
		return nil, nil
	}
	unused, err := db.All[string](ctx, tx, "purge: lesson documents", `
SELECT d FROM unnest($1::text[]) AS d
WHERE NOT EXISTS (SELECT 1 FROM lessons WHERE content_url = d)`, docs)
	if err != nil {
		return nil, err
	}
	return unused, nil
}

// Subjects deletes subjects with their tests and lessons (as above) and
// their subject_group links; tests of other subjects linked to their
// lessons are unlinked.
func Subjects(ctx context.Context, tx pgx.Tx, ids []int32) (Files, error) {
	if len(ids) == 0 {
		return Files{}, nil
	}
	testIDs, err := db.All[int32](ctx, tx, "purge: subject tests", `SELECT id FROM tests WHERE subject_id = ANY($1)`, ids)
	if err != nil {
		return Files{}, err
	}
	if err := Tests(ctx, tx, testIDs); err != nil {
		return Files{}, err
	}
	lessonIDs, err := db.All[int32](ctx, tx, "purge: subject lessons", `SELECT id FROM lessons WHERE subject_id = ANY($1)`, ids)
	if err != nil {
		return Files{}, err
	}
	files, err := Lessons(ctx, tx, lessonIDs)
	if err != nil {
		return Files{}, err
	}
	err = exec(ctx, tx, "subjects", []string{
		`DELETE FROM subject_group WHERE subject_id = ANY($1)`,
		`DELETE FROM subjects WHERE id = ANY($1)`,
	}, ids)
	return files, err
}

// Modules deletes modules with their subjects (as above) and their
// module_group and teacher_module rows.
func Modules(ctx context.Context, tx pgx.Tx, ids []int32) (Files, error) {
	if len(ids) == 0 {
		return Files{}, nil
	}
	subjectIDs, err := db.All[int32](ctx, tx, "purge: module subjects", `SELECT id FROM subjects WHERE module_id = ANY($1)`, ids)
	if err != nil {
		return Files{}, err
	}
	files, err := Subjects(ctx, tx, subjectIDs)
	if err != nil {
		return Files{}, err
	}
	err = exec(ctx, tx, "modules", []string{
		`DELETE FROM module_group WHERE module_id = ANY($1)`,
		`DELETE FROM teacher_module WHERE module_id = ANY($1)`,
		`DELETE FROM modules WHERE id = ANY($1)`,
	}, ids)
	return files, err
}

// Users deletes users with their results, submissions (as above),
// memberships, teacher_module rows and login throttle rows; subjects they
// taught lose their teacher. Files: the submissions' files and the photos.
func Users(ctx context.Context, tx pgx.Tx, ids []int32) (Files, error) {
	if len(ids) == 0 {
		return Files{}, nil
	}
	subIDs, err := db.All[int32](ctx, tx, "purge: user submissions", `SELECT id FROM lesson_submissions WHERE user_id = ANY($1)`, ids)
	if err != nil {
		return Files{}, err
	}
	files, err := Submissions(ctx, tx, subIDs)
	if err != nil {
		return Files{}, err
	}
	if err := exec(ctx, tx, "user dependents", []string{
		`DELETE FROM results WHERE user_id = ANY($1)`,
		`DELETE FROM user_group WHERE user_id = ANY($1)`,
		`DELETE FROM teacher_module WHERE teacher_id = ANY($1)`,
		`UPDATE subjects SET teacher_id = NULL WHERE teacher_id = ANY($1)`,
		`DELETE FROM login_attempts WHERE iin IN (SELECT iin FROM users WHERE id = ANY($1))`,
	}, ids); err != nil {
		return Files{}, err
	}
	photos, err := db.All[string](ctx, tx, "purge: users", `DELETE FROM users WHERE id = ANY($1) RETURNING coalesce(photo, '')`, ids)
	if err != nil {
		return Files{}, err
	}
	for _, p := range photos {
		// Cleaned first: a stored "static/photos/../x" names a file outside photos/.
		if rel, ok := storage.Rel(p); ok && strings.HasPrefix(path.Clean(rel), storage.PhotosDir+"/") {
			files.Stored = append(files.Stored, p)
		}
	}
	return files, nil
}

// Groups deletes groups and their user_group, module_group and
// subject_group rows; the users stay.
func Groups(ctx context.Context, tx pgx.Tx, ids []int32) error {
	if len(ids) == 0 {
		return nil
	}
	return exec(ctx, tx, "groups", []string{
		`DELETE FROM user_group WHERE group_id = ANY($1)`,
		`DELETE FROM module_group WHERE group_id = ANY($1)`,
		`DELETE FROM subject_group WHERE group_id = ANY($1)`,
		`DELETE FROM groups WHERE id = ANY($1)`,
	}, ids)
}

// homeworkDir is the folder of a lesson's homework files.
func homeworkDir(lessonID int32) string {
	return storage.HomeworkDir + "/lesson_" + strconv.Itoa(int(lessonID))
}

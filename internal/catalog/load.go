package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/policy"
)

// ErrNotFound is returned by the single-row loaders when the row does not
// exist; callers answer their endpoint's own 404 text.
var ErrNotFound = errors.New("catalog: not found")

// Filter selects the trees to load.
type Filter struct {
	ModuleIDs  []int32    // nil = every module
	Viewer     *auth.User // a student → only the subjects they may read (§0.6 "visible subjects"); nil, teacher or admin → all subjects
	ResultsFor int32      // non-zero → each lesson's Result is this user's latest result for the lesson (by submitted_at desc, then id desc), else null
	Limit      int        // > 0 → at most this many modules (a page of the list)
	Offset     int        // modules skipped before the page
}

// studentID is the viewer's id when the viewer is a student (whose reads
// are restricted), else 0, which the queries read as "no restriction".
func (f Filter) studentID() int32 {
	if f.Viewer != nil && f.Viewer.Role == auth.Student {
		return f.Viewer.ID
	}
	return 0
}

// ModulesSQL is the statement of Modules (exported for loadtest/bench):
// $1: load every module; $2: else these ids; $3: student id or 0.
const ModulesSQL = `
SELECT m.id, m.title, m.course, m.description, m.created_at
FROM modules m
WHERE ($1 OR m.id = ANY($2))
  AND ($3 = 0 OR EXISTS (SELECT 1 FROM ` + policy.StudentReads + ` r WHERE r.user_id = $3 AND r.module_id = m.id))
ORDER BY m.id
LIMIT NULLIF($4::int, 0) OFFSET $5`

// Modules loads ModuleResponse trees ordered by id (subjects, lessons by id)
// in a fixed number of queries whatever the data size: one for the modules,
// one for their subjects, one for the subjects' lessons and, with
// ResultsFor, one for the results (later levels are skipped when a level is
// empty). A student Viewer also restricts the modules to those they may read
// (§0.6 "read module"), so a module they cannot read is simply absent, never
// shown with an empty subject list.
func Modules(ctx context.Context, q db.DBTX, f Filter) ([]Module, error) {
	ids := f.ModuleIDs
	if ids == nil {
		ids = []int32{}
	}
	rows, err := q.Query(ctx, ModulesSQL, f.ModuleIDs == nil, ids, f.studentID(), f.Limit, f.Offset)
	if err != nil {
		return nil, fmt.Errorf("catalog: modules: %w", err)
	}
	briefs, err := pgx.CollectRows(rows, scanModuleBrief)
	if err != nil {
		return nil, fmt.Errorf("catalog: modules: %w", err)
	}
	out := make([]Module, len(briefs))
	moduleIDs := make([]int32, len(briefs))
	for i, b := range briefs {
		out[i] = Module{ModuleBrief: b, Subjects: []Subject{}}
		moduleIDs[i] = b.ID
	}
	if len(out) == 0 {
		return out, nil
	}
	subjects, err := subjectsOfModules(ctx, q, moduleIDs, f.studentID())
	if err != nil {
		return nil, err
	}
	if err := fillLessons(ctx, q, subjects, f.ResultsFor); err != nil {
		return nil, err
	}
	at := make(map[int32]int, len(out))
	for i, m := range out {
		at[m.ID] = i
	}
	for _, s := range subjects {
		i := at[s.ModuleID]
		out[i].Subjects = append(out[i].Subjects, s)
	}
	return out, nil
}

// ModuleByID loads one ModuleResponse tree (as Modules with that id);
// ErrNotFound when the module does not exist or, for a student Viewer, is
// not readable by them.
func ModuleByID(ctx context.Context, q db.DBTX, id int32, f Filter) (Module, error) {
	f.ModuleIDs = []int32{id}
	ms, err := Modules(ctx, q, f)
	if err != nil {
		return Module{}, err
	}
	if len(ms) == 0 {
		return Module{}, ErrNotFound
	}
	return ms[0], nil
}

// SubjectsOfModulesSQL is the statement of subjectsOfModules (exported for
// loadtest/bench).
const SubjectsOfModulesSQL = `
SELECT s.id, s.title, s.module_id, s.teacher_id
FROM subjects s
WHERE s.module_id = ANY($1)
  AND ($2 = 0 OR EXISTS (SELECT 1 FROM ` + policy.StudentReads + ` r WHERE r.user_id = $2 AND r.subject_id = s.id))
ORDER BY s.id`

// subjectsOfModules loads the subjects of the modules ordered by id; with a
// student id, only the subjects that student may read (§0.6).
func subjectsOfModules(ctx context.Context, q db.DBTX, moduleIDs []int32, studentID int32) ([]Subject, error) {
	return db.All[Subject](ctx, q, "catalog: subjects", SubjectsOfModulesSQL, moduleIDs, studentID)
}

// SubjectFilter selects the subjects Subjects loads.
type SubjectFilter struct {
	IDs        []int32 // nil = every subject
	TeacherID  int32   // non-zero → only the subjects this user teaches (subjects.teacher_id)
	ResultsFor int32   // as Filter.ResultsFor
}

// Subjects loads SubjectResponse trees ordered by id (lessons by id) in at
// most three queries: subjects, their lessons, and the results when asked.
// It applies no read rule: callers check access (policy) first.
func Subjects(ctx context.Context, q db.DBTX, f SubjectFilter) ([]Subject, error) {
	// $1: every subject; $2: else these ids; $3: teacher id or 0.
	const sql = `
SELECT s.id, s.title, s.module_id, s.teacher_id
FROM subjects s
WHERE ($1 OR s.id = ANY($2))
  AND ($3 = 0 OR s.teacher_id = $3)
ORDER BY s.id`
	ids := f.IDs
	if ids == nil {
		ids = []int32{}
	}
	subjects, err := db.All[Subject](ctx, q, "catalog: subjects", sql, f.IDs == nil, ids, f.TeacherID)
	if err != nil {
		return nil, err
	}
	if err := fillLessons(ctx, q, subjects, f.ResultsFor); err != nil {
		return nil, err
	}
	return subjects, nil
}

// SubjectByID loads one SubjectResponse tree; ErrNotFound when it does not exist.
func SubjectByID(ctx context.Context, q db.DBTX, id, resultsFor int32) (Subject, error) {
	ss, err := Subjects(ctx, q, SubjectFilter{IDs: []int32{id}, ResultsFor: resultsFor})
	if err != nil {
		return Subject{}, err
	}
	if len(ss) == 0 {
		return Subject{}, ErrNotFound
	}
	return ss[0], nil
}

// Lessons loads the lessons of one subject ordered by id (LessonResponse
// shape; Result as Filter.ResultsFor) in at most two queries. An unknown
// subject gives []; callers check the subject exists first.
func Lessons(ctx context.Context, q db.DBTX, subjectID, resultsFor int32) ([]Lesson, error) {
	return lessonsOf(ctx, q, []int32{subjectID}, resultsFor)
}

// LessonByID loads one lesson (LessonResponse shape) with resultsFor's latest
// result when non-zero; ErrNotFound when it does not exist.
func LessonByID(ctx context.Context, q db.DBTX, id, resultsFor int32) (Lesson, error) {
	const sql = `
SELECT id, title, description, type, content_url, subject_id, created_at, due_at, cutoff_at
FROM lessons
WHERE id = $1`
	rows, err := q.Query(ctx, sql, id)
	if err != nil {
		return Lesson{}, fmt.Errorf("catalog: lesson: %w", err)
	}
	l, err := pgx.CollectExactlyOneRow(rows, scanLesson)
	if errors.Is(err, pgx.ErrNoRows) {
		return Lesson{}, ErrNotFound
	}
	if err != nil {
		return Lesson{}, fmt.Errorf("catalog: lesson: %w", err)
	}
	ls := []Lesson{l}
	if err := fillResults(ctx, q, ls, resultsFor); err != nil {
		return Lesson{}, err
	}
	return ls[0], nil
}

// fillLessons sets every subject's lessons (never nil) with one query for
// all of them, plus one for the results when resultsFor is non-zero.
func fillLessons(ctx context.Context, q db.DBTX, subjects []Subject, resultsFor int32) error {
	if len(subjects) == 0 {
		return nil
	}
	ids := make([]int32, len(subjects))
	for i := range subjects {
		ids[i] = subjects[i].ID
		subjects[i].Lessons = []Lesson{}
	}
	lessons, err := lessonsOf(ctx, q, ids, resultsFor)
	if err != nil {
		return err
	}
	at := make(map[int32]int, len(subjects))
	for i, s := range subjects {
		at[s.ID] = i
	}
	for _, l := range lessons {
		i := at[l.SubjectID]
		subjects[i].Lessons = append(subjects[i].Lessons, l)
	}
	return nil
}

// LessonsOfSQL is the statement of lessonsOf (exported for loadtest/bench).
const LessonsOfSQL = `
SELECT id, title, description, type, content_url, subject_id, created_at, due_at, cutoff_at
FROM lessons
WHERE subject_id = ANY($1)
ORDER BY id`

// lessonsOf loads the lessons of the subjects ordered by id, with results.
func lessonsOf(ctx context.Context, q db.DBTX, subjectIDs []int32, resultsFor int32) ([]Lesson, error) {
	rows, err := q.Query(ctx, LessonsOfSQL, subjectIDs)
	if err != nil {
		return nil, fmt.Errorf("catalog: lessons: %w", err)
	}
	lessons, err := pgx.CollectRows(rows, scanLesson)
	if err != nil {
		return nil, fmt.Errorf("catalog: lessons: %w", err)
	}
	if err := fillResults(ctx, q, lessons, resultsFor); err != nil {
		return nil, err
	}
	return lessons, nil
}

// fillResults sets each lesson's Result to userID's latest result for it
// (one query for all lessons); nothing happens when userID is 0.
func fillResults(ctx context.Context, q db.DBTX, lessons []Lesson, userID int32) error {
	if userID == 0 || len(lessons) == 0 {
		return nil
	}
	// "Latest" is by submitted_at, then id (API.md §7); a row without
	// submitted_at has no time to be latest by, so it ranks last.
	const sql = `
SELECT DISTINCT ON (lesson_id) id, user_id, lesson_id, test_id, score, submitted_at
FROM results
WHERE user_id = $1 AND lesson_id = ANY($2)
ORDER BY lesson_id, submitted_at DESC NULLS LAST, id DESC`
	ids := make([]int32, len(lessons))
	for i, l := range lessons {
		ids[i] = l.ID
	}
	rows, err := q.Query(ctx, sql, userID, ids)
	if err != nil {
		return fmt.Errorf("catalog: results: %w", err)
	}
	results, err := pgx.CollectRows(rows, scanResult)
	if err != nil {
		return fmt.Errorf("catalog: results: %w", err)
	}
	byLesson := make(map[int32]*Result, len(results))
	for i := range results {
		byLesson[*results[i].LessonID] = &results[i]
	}
	for i := range lessons {
		lessons[i].Result = byLesson[lessons[i].ID]
	}
	return nil
}

// The scanners read the columns of the queries above by position, in the
// order of their SELECT lists: the hot reads skip pgx's by-name reflection
// (RowToStructByName), a quarter of my-modules' CPU before.

func scanModuleBrief(row pgx.CollectableRow) (ModuleBrief, error) {
	var b ModuleBrief
	err := row.Scan(&b.ID, &b.Title, &b.Course, &b.Description, &b.CreatedAt)
	return b, err
}

func scanLesson(row pgx.CollectableRow) (Lesson, error) {
	var l Lesson
	err := row.Scan(&l.ID, &l.Title, &l.Description, &l.Type, &l.ContentURL, &l.SubjectID, &l.CreatedAt,
		&l.DueAt, &l.CutoffAt)
	return l, err
}

func scanResult(row pgx.CollectableRow) (Result, error) {
	var r Result
	err := row.Scan(&r.ID, &r.UserID, &r.LessonID, &r.TestID, &r.Score, &r.SubmittedAt)
	return r, err
}

package lessons

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/catalog"
	"platform/internal/db"
	"platform/internal/policy"
	"platform/internal/timefmt"
	"platform/internal/web"
)

// Repo is the SQL of the /lessons domain.
type Repo struct {
	q db.DBTX
}

// NewRepo returns a Repo on a pool or a transaction.
func NewRepo(q db.DBTX) *Repo { return &Repo{q: q} }

// errNoLesson is a missing (or, for students, unreadable) lesson; each
// endpoint answers it with its own text.
var errNoLesson = errors.New("lessons: no such lesson")

// Lesson reads lesson id with the caller's latest result for it, in one
// query, and the deadlines as they apply to the caller (their extension's
// times replacing the lesson's); a result without submitted_at ranks last, as in the catalog's trees
// (GET /access/lessons/{id} answers the same result). For a student (§0.6
// "read lesson") the row is only found when one of their groups reaches the
// lesson's subject, so a hidden lesson looks missing.
func (repo *Repo) Lesson(ctx context.Context, userID, id int32, student bool) (catalog.Lesson, error) {
	const q = `
SELECT l.id, l.title, l.description, l.type, l.content_url, l.subject_id, l.created_at,
       r.id, r.user_id, r.lesson_id, r.test_id, r.score, r.submitted_at,
       coalesce(e.due_at, l.due_at), coalesce(e.cutoff_at, l.cutoff_at)
FROM lessons l
LEFT JOIN lesson_extensions e ON e.lesson_id = l.id AND e.user_id = $1
LEFT JOIN LATERAL (
    SELECT id, user_id, lesson_id, test_id, score, submitted_at
    FROM results
    WHERE lesson_id = l.id AND user_id = $1
    ORDER BY submitted_at DESC NULLS LAST, id DESC
    LIMIT 1) r ON true
WHERE l.id = $2
  AND (NOT $3::boolean OR EXISTS (SELECT 1 FROM ` + policy.StudentReads + ` r WHERE r.user_id = $1 AND r.subject_id = l.subject_id))`
	var (
		l   catalog.Lesson
		res struct {
			ID, UserID       *int32
			LessonID, TestID *int32
			Score            *float64
			SubmittedAt      *timefmt.Time
		}
	)
	err := repo.q.QueryRow(ctx, q, userID, id, student).Scan(
		&l.ID, &l.Title, &l.Description, &l.Type, &l.ContentURL, &l.SubjectID, &l.CreatedAt,
		&res.ID, &res.UserID, &res.LessonID, &res.TestID, &res.Score, &res.SubmittedAt, &l.DueAt, &l.CutoffAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return catalog.Lesson{}, errNoLesson
	}
	if err != nil {
		return catalog.Lesson{}, fmt.Errorf("lessons: read lesson: %w", err)
	}
	if res.ID != nil {
		l.Result = &catalog.Result{ID: *res.ID, UserID: *res.UserID, LessonID: res.LessonID,
			TestID: res.TestID, Score: *res.Score, SubmittedAt: res.SubmittedAt}
	}
	return l, nil
}

// LockTestSubject reads the subject of test id and locks the test row until
// the transaction ends, so it cannot vanish before it is attached.
func (repo *Repo) LockTestSubject(ctx context.Context, testID int32) (int32, error) {
	const q = `SELECT subject_id FROM tests WHERE id = $1 FOR UPDATE`
	var subjectID int32
	err := repo.q.QueryRow(ctx, q, testID).Scan(&subjectID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, apperr.NotFound("Тест не найден")
	}
	if err != nil {
		return 0, fmt.Errorf("lessons: read test: %w", err)
	}
	return subjectID, nil
}

// InsertLesson creates a lesson in the subject.
func (repo *Repo) InsertLesson(ctx context.Context, subjectID int32, in newLesson) (catalog.Lesson, error) {
	const q = `
INSERT INTO lessons (subject_id, title, type, description, content_url, created_at, due_at, cutoff_at)
VALUES ($1, $2, $3, $4, $5, now() AT TIME ZONE 'UTC', $6::timestamp, $7::timestamp)
RETURNING id, title, description, type, content_url, subject_id, created_at, due_at, cutoff_at`
	rows, err := repo.q.Query(ctx, q, subjectID, in.Title, in.Type, in.Description, in.ContentURL,
		naive(in.Deadlines.Due), naive(in.Deadlines.Cutoff))
	if err != nil {
		return catalog.Lesson{}, fmt.Errorf("lessons: insert lesson: %w", err)
	}
	l, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[catalog.Lesson])
	if db.IsForeignKeyViolation(err, "lessons_subject_id_fkey") {
		// The subject was deleted after it was checked.
		return catalog.Lesson{}, apperr.NotFound("Предмет не найден")
	}
	if err != nil {
		return catalog.Lesson{}, fmt.Errorf("lessons: insert lesson: %w", err)
	}
	return l, nil
}

// AttachTest points the test at the lesson, moving it from any previous one.
func (repo *Repo) AttachTest(ctx context.Context, testID, lessonID int32) error {
	const q = `UPDATE tests SET lesson_id = $2 WHERE id = $1`
	if _, err := repo.q.Exec(ctx, q, testID, lessonID); err != nil {
		return fmt.Errorf("lessons: attach test: %w", err)
	}
	return nil
}

// InsertSubmission records a homework submission and its files (stored
// strings, in upload order) and returns its id. It takes two statements:
// run it in a transaction.
func (repo *Repo) InsertSubmission(ctx context.Context, lessonID, userID int32, comment *string, paths []string, lateSeconds *int32) (int32, error) {
	const insertSubmission = `
INSERT INTO lesson_submissions (lesson_id, user_id, comment, submitted_at, late_seconds)
VALUES ($1, $2, $3, now() AT TIME ZONE 'UTC', $4)
RETURNING id`
	const insertFiles = `
INSERT INTO submission_files (submission_id, file_path)
SELECT $1, p FROM unnest($2::text[]) WITH ORDINALITY AS f(p, n) ORDER BY n`
	var id int32
	err := repo.q.QueryRow(ctx, insertSubmission, lessonID, userID, comment, lateSeconds).Scan(&id)
	switch {
	case db.IsForeignKeyViolation(err, "lesson_submissions_lesson_id_fkey"):
		return 0, apperr.NotFound("Урок не найден") // deleted while the files streamed in
	case db.IsForeignKeyViolation(err, "lesson_submissions_user_id_fkey"):
		return 0, apperr.Unauthenticated("Пользователь не найден")
	case err != nil:
		return 0, fmt.Errorf("lessons: insert submission: %w", err)
	}
	if len(paths) > 0 {
		if _, err := repo.q.Exec(ctx, insertFiles, id, paths); err != nil {
			return 0, fmt.Errorf("lessons: insert submission files: %w", err)
		}
	}
	return id, nil
}

// LockSubmissions serialises, until the transaction ends, the submits of
// one student to one lesson (a transaction-scoped advisory lock on the pair;
// PostgreSQL keeps two-key locks apart from the one-key ones of migrations).
func (repo *Repo) LockSubmissions(ctx context.Context, lessonID, userID int32) error {
	const q = `SELECT pg_advisory_xact_lock($1, $2)`
	if _, err := repo.q.Exec(ctx, q, lessonID, userID); err != nil {
		return fmt.Errorf("lessons: lock submissions: %w", err)
	}
	return nil
}

// CountSubmissions is the number of the student's submissions to the lesson.
func (repo *Repo) CountSubmissions(ctx context.Context, lessonID, userID int32) (int, error) {
	const q = `SELECT count(*) FROM lesson_submissions WHERE lesson_id = $1 AND user_id = $2`
	var n int
	if err := repo.q.QueryRow(ctx, q, lessonID, userID).Scan(&n); err != nil {
		return 0, fmt.Errorf("lessons: count submissions: %w", err)
	}
	return n, nil
}

// MySubmissions streams the page of the user's submissions to the lesson,
// newest first (API.md §8), to yield, one at a time.
func (repo *Repo) MySubmissions(ctx context.Context, lessonID, userID int32, page web.Page, yield func(Submission) error) error {
	const filesQ = `
SELECT sf.id, sf.submission_id, sf.file_path
FROM submission_files sf
WHERE sf.submission_id IN (
    SELECT id FROM lesson_submissions
    WHERE lesson_id = $1 AND user_id = $2
    ORDER BY submitted_at DESC, id DESC
    LIMIT $3 OFFSET $4)
ORDER BY sf.id`
	const q = `
SELECT ls.id, ls.lesson_id, ls.user_id, ls.comment, ls.grade, NULL::text AS student_name, ls.submitted_at,
       ` + effectiveDeadlineColumns + `
FROM lesson_submissions ls
` + effectiveDeadlineJoins + `
WHERE ls.lesson_id = $1 AND ls.user_id = $2
ORDER BY ls.submitted_at DESC, ls.id DESC
LIMIT $3 OFFSET $4`
	files, err := repo.submissionFiles(ctx, filesQ, lessonID, userID, page.Limit, page.Offset)
	if err != nil {
		return err
	}
	return repo.streamSubmissions(ctx, q, files, nil, web.FullPage, yield, lessonID, userID, page.Limit, page.Offset)
}

// effectiveDeadlineColumns are a submission's deadline fields (issue 24):
// its student's extension or its lesson's, and the late flag stored at
// submit time; they need effectiveDeadlineJoins on ls.
const effectiveDeadlineColumns = `coalesce(dx.due_at, dl.due_at) AS due_at, coalesce(dx.cutoff_at, dl.cutoff_at) AS cutoff_at,
       ls.late_seconds IS NOT NULL AS late, ls.late_seconds`

const effectiveDeadlineJoins = `LEFT JOIN lessons dl ON dl.id = ls.lesson_id
LEFT JOIN lesson_extensions dx ON dx.lesson_id = ls.lesson_id AND dx.user_id = ls.user_id`

// LessonSubmissions streams the page of the lesson's submissions with the
// student's name, by id, keeping only names containing search
// (case-insensitive, literal) when search is not empty; the page counts
// the kept rows. The filter runs here rather than in SQL: PostgreSQL's
// lower() folds Cyrillic only in a database whose LC_CTYPE is UTF-8-aware,
// and an adopted database may have been created with "C".
func (repo *Repo) LessonSubmissions(ctx context.Context, lessonID int32, search string, page web.Page, yield func(Submission) error) error {
	const filesQ = `
SELECT sf.id, sf.submission_id, sf.file_path
FROM submission_files sf
JOIN lesson_submissions ls ON ls.id = sf.submission_id
WHERE ls.lesson_id = $1
ORDER BY sf.id`
	const q = `
SELECT ls.id, ls.lesson_id, ls.user_id, ls.comment, ls.grade, u.full_name AS student_name, ls.submitted_at,
       ` + effectiveDeadlineColumns + `
FROM lesson_submissions ls
LEFT JOIN users u ON u.id = ls.user_id
` + effectiveDeadlineJoins + `
WHERE ls.lesson_id = $1
ORDER BY ls.id`
	keep := func(Submission) bool { return true }
	if search != "" {
		needle := strings.ToLower(search)
		keep = func(s Submission) bool {
			return s.StudentName != nil && strings.Contains(strings.ToLower(*s.StudentName), needle)
		}
	}
	files, err := repo.submissionFiles(ctx, filesQ, lessonID)
	if err != nil {
		return err
	}
	return repo.streamSubmissions(ctx, q, files, keep, page, yield, lessonID)
}

// submissionFiles reads the files of the submissions a list will show,
// grouped by submission (a few paths each: at most 5 files per submission).
func (repo *Repo) submissionFiles(ctx context.Context, q string, args ...any) (map[int32][]SubmissionFile, error) {
	files, err := db.All[SubmissionFile](ctx, repo.q, "lessons: list submission files", q, args...)
	if err != nil {
		return nil, err
	}
	out := make(map[int32][]SubmissionFile)
	for _, f := range files {
		out[f.SubmissionID] = append(out[f.SubmissionID], f)
	}
	return out, nil
}

// streamSubmissions runs a submission query and hands each row that keep
// admits (all when nil) and that falls on the page to yield, with its
// files, as it arrives: comments (up to web.MaxComment each) are never all
// in memory at once.
func (repo *Repo) streamSubmissions(ctx context.Context, q string, files map[int32][]SubmissionFile,
	keep func(Submission) bool, page web.Page, yield func(Submission) error, args ...any) error {
	rows, err := repo.q.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("lessons: list submissions: %w", err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		s, err := pgx.RowToStructByName[Submission](rows)
		if err != nil {
			return fmt.Errorf("lessons: list submissions: %w", err)
		}
		if keep != nil && !keep(s) {
			continue
		}
		in, done := page.Window(i)
		i++
		if done {
			break
		}
		if !in {
			continue
		}
		s.Files = files[s.ID]
		if s.Files == nil {
			s.Files = []SubmissionFile{}
		}
		if err := yield(s); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("lessons: list submissions: %w", err)
	}
	return nil
}

// LessonResults lists the test results recorded for the lesson, by id.
func (repo *Repo) LessonResults(ctx context.Context, lessonID int32) ([]TestResult, error) {
	const q = `
SELECT r.id, r.score, r.submitted_at, u.full_name AS student_name, r.user_id, r.test_id, r.lesson_id
FROM results r
JOIN users u ON u.id = r.user_id
WHERE r.lesson_id = $1
ORDER BY r.id`
	return db.All[TestResult](ctx, repo.q, "lessons: list results", q, lessonID)
}

// LockSubmissionOwner reads the owner of submission id and locks the row
// until the transaction ends.
func (repo *Repo) LockSubmissionOwner(ctx context.Context, id int32) (*int32, error) {
	const q = `SELECT user_id FROM lesson_submissions WHERE id = $1 FOR UPDATE`
	var owner *int32
	err := repo.q.QueryRow(ctx, q, id).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoSubmission()
	}
	if err != nil {
		return nil, fmt.Errorf("lessons: read submission: %w", err)
	}
	return owner, nil
}

// The 404 texts of every endpoint addressing a submission, and of DELETE
// /lessons/result/{id}.
const (
	msgNoSubmission = "Работа не найдена"
	msgNoResult     = "Результат не найден"
)

func errNoSubmission() error { return apperr.NotFound(msgNoSubmission) }

func errNoResult() error { return apperr.NotFound(msgNoResult) }

// SubmissionSubject reads the subject of the submission's lesson; a
// submission without a lesson yields a zero Subject, which only an admin
// manages. policy.ErrNotFound when there is no such submission.
func (repo *Repo) SubmissionSubject(ctx context.Context, id int32) (policy.Subject, error) {
	const q = `
SELECT s.id, s.module_id, s.teacher_id
FROM lesson_submissions ls
LEFT JOIN lessons l ON l.id = ls.lesson_id
LEFT JOIN subjects s ON s.id = l.subject_id
WHERE ls.id = $1`
	return repo.optionalSubject(ctx, q, id)
}

// ResultSubject reads the subject that decides over result id: its
// lesson's, or its test's when it has no lesson. ok is false when the
// result has neither; policy.ErrNotFound when there is no such result.
func (repo *Repo) ResultSubject(ctx context.Context, id int32) (s policy.Subject, ok bool, err error) {
	const q = `
SELECT s.id, s.module_id, s.teacher_id
FROM results r
LEFT JOIN lessons l ON l.id = r.lesson_id
LEFT JOIN tests t ON t.id = r.test_id
LEFT JOIN subjects s ON s.id = coalesce(l.subject_id, t.subject_id)
WHERE r.id = $1`
	s, err = repo.optionalSubject(ctx, q, id)
	return s, s.ID != 0, err
}

// optionalSubject runs a query returning one row of a LEFT-JOINed subject
// (a NULL subject gives a zero Subject); policy.ErrNotFound when no row.
func (repo *Repo) optionalSubject(ctx context.Context, q string, id int32) (s policy.Subject, err error) {
	var sid, mid *int32
	err = repo.q.QueryRow(ctx, q, id).Scan(&sid, &mid, &s.TeacherID)
	if errors.Is(err, pgx.ErrNoRows) {
		return policy.Subject{}, policy.ErrNotFound
	}
	if err != nil {
		return policy.Subject{}, fmt.Errorf("lessons: read subject: %w", err)
	}
	if sid != nil {
		s.ID, s.ModuleID = *sid, *mid
	}
	return s, nil
}

// gradebookSubject is the subject with its title, for the gradebook.
type gradebookSubject struct {
	policy.Subject
	Title string `db:"title"`
}

// gradebookSubject loads the subject's access fields and title;
// policy.ErrNotFound when missing.
func (repo *Repo) gradebookSubject(ctx context.Context, id int32) (gradebookSubject, error) {
	const q = `SELECT id, module_id, teacher_id, title FROM subjects WHERE id = $1`
	return db.One[gradebookSubject](ctx, repo.q, "lessons: gradebook subject", policy.ErrNotFound, q, id)
}

// gradebookLessons lists the subject's lessons by id.
func (repo *Repo) gradebookLessons(ctx context.Context, subjectID int32) ([]gradebookLesson, error) {
	const q = `SELECT id, title, due_at FROM lessons WHERE subject_id = $1 ORDER BY id`
	return db.All[gradebookLesson](ctx, repo.q, "lessons: gradebook lessons", q, subjectID)
}

// gradebookRows streams one row per student to fn (n counts from 1) in a
// single query. The cells follow lessonIDs (passed in rather than re-read,
// so the columns match the header even if a lesson is added meanwhile).
func (repo *Repo) gradebookRows(ctx context.Context, subjectID int32, lessonIDs []int32, fn func(n int, row gradebookRow) error) error {
	// $1 subject, $2 the lesson ids in column order; the students and their
	// groups that see the subject are policy's.
	const q = `
WITH st AS (
    SELECT u.id, u.full_name, u.iin, string_agg(gr.name, ', ' ORDER BY gr.name) AS groups
    FROM users u
    JOIN (SELECT DISTINCT r.user_id, r.group_id FROM ` + policy.StudentReads + ` r WHERE r.subject_id = $1) ug ON ug.user_id = u.id
    JOIN groups gr ON gr.id = ug.group_id
    WHERE u.role = 'student'
    GROUP BY u.id, u.full_name, u.iin
), latest AS (
    SELECT DISTINCT ON (user_id, lesson_id) user_id, lesson_id, value, late
    FROM (
        SELECT ls.user_id, ls.lesson_id, ls.grade::double precision AS value,
               ls.submitted_at AT TIME ZONE 'UTC' AS at, 0 AS kind, ls.id, ls.late_seconds IS NOT NULL AS late
        FROM lesson_submissions ls
        WHERE ls.lesson_id = ANY($2)
        UNION ALL
        SELECT r.user_id, r.lesson_id, r.score, r.submitted_at, 1, r.id, false
        FROM results r
        WHERE r.lesson_id = ANY($2)
    ) s
    WHERE user_id IN (SELECT id FROM st)
    ORDER BY user_id, lesson_id, at DESC NULLS LAST, kind DESC, id DESC
)
SELECT st.full_name, st.iin, st.groups,
       array_agg(lt.value ORDER BY l.pos) FILTER (WHERE l.id IS NOT NULL) AS cells,
       array_agg(coalesce(lt.late, false) ORDER BY l.pos) FILTER (WHERE l.id IS NOT NULL) AS late
FROM st
LEFT JOIN unnest($2::int[]) WITH ORDINALITY AS l(id, pos) ON true
LEFT JOIN latest lt ON lt.user_id = st.id AND lt.lesson_id = l.id
GROUP BY st.id, st.full_name, st.iin, st.groups
ORDER BY st.full_name, st.id`
	rows, err := repo.q.Query(ctx, q, subjectID, lessonIDs)
	if err != nil {
		return fmt.Errorf("lessons: gradebook rows: %w", err)
	}
	defer rows.Close()
	var row gradebookRow
	n := 0
	for rows.Next() {
		row.Cells, row.Late = row.Cells[:0], row.Late[:0]
		if err := rows.Scan(&row.FullName, &row.IIN, &row.Groups, &row.Cells, &row.Late); err != nil {
			return fmt.Errorf("lessons: gradebook row: %w", err)
		}
		if len(row.Cells) != len(lessonIDs) { // no lessons: NULL array
			row.Cells = make([]*float64, len(lessonIDs))
		}
		if len(row.Late) != len(lessonIDs) {
			row.Late = make([]bool, len(lessonIDs))
		}
		n++
		if err := fn(n, row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("lessons: gradebook rows: %w", err)
	}
	return nil
}

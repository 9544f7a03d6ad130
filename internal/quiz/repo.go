package quiz

import (
	"context"
	"fmt"

	"platform/internal/catalog"
	"platform/internal/db"
	"platform/internal/policy"
)

// errNotFound reports a missing row; handlers answer their own 404 text. It
// is policy's, so the subject loaders and policy.RequireManage share it.
var errNotFound = policy.ErrNotFound

// Repo is the SQL of the quiz domain.
type Repo struct {
	q db.DBTX
}

// NewRepo returns a Repo on a pool or a transaction.
func NewRepo(q db.DBTX) *Repo { return &Repo{q: q} }

// test reads a test with its subject's module and teacher (for the access
// rules); forUpdate locks the test row so concurrent updates and deletes of
// one test serialise instead of interleaving their question replacements.
func (repo *Repo) test(ctx context.Context, id int32, forUpdate bool) (testRow, error) {
	const q = `
SELECT t.id, t.title, t.subject_id, t.lesson_id, s.module_id, s.teacher_id
FROM tests t JOIN subjects s ON s.id = t.subject_id
WHERE t.id = $1`
	sql := q
	if forUpdate {
		sql += ` FOR UPDATE OF t`
	}
	return db.One[testRow](ctx, repo.q, "quiz: load test", errNotFound, sql, id)
}

// bySubject lists a subject's tests by id.
func (repo *Repo) bySubject(ctx context.Context, subjectID int32) ([]Test, error) {
	const q = `SELECT id, title, subject_id, lesson_id FROM tests WHERE subject_id = $1 ORDER BY id`
	return db.All[Test](ctx, repo.q, "quiz: tests by subject", q, subjectID)
}

// questions lists a test's questions by id, options not filled.
func (repo *Repo) questions(ctx context.Context, testID int32) ([]Question, error) {
	const q = `
SELECT id, question_text, correct_option_index
FROM questions WHERE test_id = $1 ORDER BY id`
	return db.All[Question](ctx, repo.q, "quiz: questions", q, testID)
}

// fillOptions loads the options of all the questions in one query.
func (repo *Repo) fillOptions(ctx context.Context, qs []Question) error {
	ids := make([]int32, len(qs))
	for i, q := range qs {
		ids[i] = q.ID
		qs[i].Options = []Option{}
	}
	if len(ids) == 0 {
		return nil
	}
	const q = `
SELECT id, question_id, option_text, option_index
FROM options WHERE question_id = ANY($1) ORDER BY id`
	opts, err := db.All[Option](ctx, repo.q, "quiz: options", q, ids)
	if err != nil {
		return err
	}
	at := make(map[int32]int, len(qs))
	for i, q := range qs {
		at[q.ID] = i
	}
	for _, o := range opts {
		i := at[o.QuestionID]
		qs[i].Options = append(qs[i].Options, o)
	}
	return nil
}

// result is the user's result for the test, or nil.
func (repo *Repo) result(ctx context.Context, testID, userID int32) (*catalog.Result, error) {
	const q = `
SELECT id, user_id, lesson_id, test_id, score, submitted_at
FROM results WHERE test_id = $1 AND user_id = $2 ORDER BY id LIMIT 1`
	rs, err := db.All[catalog.Result](ctx, repo.q, "quiz: result", q, testID, userID)
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	return &rs[0], nil
}

// insertResult records a submitted test; uq_results_user_test refuses a
// second result of the same user and test (the caller maps it).
func (repo *Repo) insertResult(ctx context.Context, userID, lessonID, testID int32, score float64) (catalog.Result, error) {
	const q = `
INSERT INTO results (user_id, lesson_id, test_id, score, submitted_at)
VALUES ($1, $2, $3, $4, now())
RETURNING id, user_id, lesson_id, test_id, score, submitted_at`
	return db.One[catalog.Result](ctx, repo.q, "quiz: insert result", errNotFound, q, userID, lessonID, testID, score)
}

// insertTest creates the tests row.
func (repo *Repo) insertTest(ctx context.Context, title string, subjectID int32, lessonID *int32) (Test, error) {
	const q = `
INSERT INTO tests (title, subject_id, lesson_id) VALUES ($1, $2, $3)
RETURNING id, title, subject_id, lesson_id`
	return db.One[Test](ctx, repo.q, "quiz: insert test", errNotFound, q, title, subjectID, lessonID)
}

// updateTest rewrites the tests row.
func (repo *Repo) updateTest(ctx context.Context, id int32, title string, subjectID int32, lessonID *int32) (Test, error) {
	const q = `
UPDATE tests SET title = $2, subject_id = $3, lesson_id = $4 WHERE id = $1
RETURNING id, title, subject_id, lesson_id`
	return db.One[Test](ctx, repo.q, "quiz: update test", errNotFound, q, id, title, subjectID, lessonID)
}

// deleteQuestions removes a test's questions and their options.
func (repo *Repo) deleteQuestions(ctx context.Context, testID int32) error {
	const delOptions = `DELETE FROM options WHERE question_id IN (SELECT id FROM questions WHERE test_id = $1)`
	const delQuestions = `DELETE FROM questions WHERE test_id = $1`
	for _, q := range []string{delOptions, delQuestions} {
		if _, err := repo.q.Exec(ctx, q, testID); err != nil {
			return fmt.Errorf("quiz: delete questions: %w", err)
		}
	}
	return nil
}

// insertQuestions writes the questions and options in three statements
// whatever their number. Question ids are taken from the sequence first so
// each option can name its question; ascending ids keep the body's order,
// which is the order questions are read back in (by id).
func (repo *Repo) insertQuestions(ctx context.Context, testID int32, qs []draftQuestion) error {
	if len(qs) == 0 {
		return nil
	}
	const allocate = `
SELECT array_agg(id ORDER BY id)
FROM (SELECT nextval(pg_get_serial_sequence('questions', 'id'))::int4 AS id FROM generate_series(1, $1)) n`
	var ids []int32
	if err := repo.q.QueryRow(ctx, allocate, len(qs)).Scan(&ids); err != nil {
		return fmt.Errorf("quiz: allocate question ids: %w", err)
	}
	var (
		texts    = make([]string, len(qs))
		corrects = make([]int32, len(qs))
		optQ     []int32
		optTexts []string
		optIdx   []int32
	)
	for i, q := range qs {
		texts[i], corrects[i] = q.Text, q.Correct
		for _, o := range q.Options {
			optQ = append(optQ, ids[i])
			optTexts = append(optTexts, o.Text)
			optIdx = append(optIdx, o.Index)
		}
	}
	const insQuestions = `
INSERT INTO questions (id, test_id, question_text, correct_option_index)
SELECT q.id, $1, q.text, q.correct FROM unnest($2::int4[], $3::text[], $4::int4[]) AS q(id, text, correct)`
	if _, err := repo.q.Exec(ctx, insQuestions, testID, ids, texts, corrects); err != nil {
		return fmt.Errorf("quiz: insert questions: %w", err)
	}
	// ORDER BY the position so option ids follow the body's order too.
	const insOptions = `
INSERT INTO options (question_id, option_text, option_index)
SELECT o.qid, o.text, o.idx
FROM unnest($1::int4[], $2::text[], $3::int4[]) WITH ORDINALITY AS o(qid, text, idx, n)
ORDER BY o.n`
	if _, err := repo.q.Exec(ctx, insOptions, optQ, optTexts, optIdx); err != nil {
		return fmt.Errorf("quiz: insert options: %w", err)
	}
	return nil
}

// subject reads a subject for the access rules; errNotFound when missing.
func (repo *Repo) subject(ctx context.Context, id int32) (policy.Subject, error) {
	return policy.LoadSubject(ctx, repo.q, id)
}

// lessonSubject reads the subject of a lesson; errNotFound when the lesson is missing.
func (repo *Repo) lessonSubject(ctx context.Context, lessonID int32) (policy.Subject, error) {
	return policy.LessonSubject(ctx, repo.q, lessonID)
}

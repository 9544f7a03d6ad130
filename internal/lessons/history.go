package lessons

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/policy"
	"platform/internal/timefmt"
	"platform/internal/web"
)

// The grade history (issue 24, README "Deadlines and the grade history"):
// every grade set, changed or cleared on a submission and every test result
// deleted is one grade_history row, inserted in the transaction of the
// change, so a change that fails leaves no row and a row never describes a
// change that did not happen. Names are copied into the row: deleting the
// user or the lesson sets its reference to NULL and keeps the row.

// The endpoints a history row names.
const (
	endpointGrade            = "PATCH /lessons/submission/{submission_id}/grade"
	endpointClearGrade       = "DELETE /lessons/submission/{submission_id}/grade"
	endpointDeleteSubmission = "DELETE /lessons/submission/{submission_id}"
	endpointDeleteResult     = "DELETE /lessons/result/{result_id}"
)

// HistoryEntry is one row of GET /lessons/submission/{id}/history and GET
// /lessons/{id}/history. OldValue/NewValue are the grade (homework) or the
// score (test; new_value null: deleted). For a student the actor is only
// its role: actor_id and actor_name are null.
type HistoryEntry struct {
	ID           int64        `json:"id" db:"id"`
	Kind         string       `json:"kind" db:"kind"`
	SubmissionID *int32       `json:"submission_id" db:"submission_id"`
	ResultID     *int32       `json:"result_id" db:"result_id"`
	LessonID     *int32       `json:"lesson_id" db:"lesson_id"`
	LessonTitle  *string      `json:"lesson_title" db:"lesson_title"`
	StudentID    *int32       `json:"student_id" db:"student_id"`
	StudentName  *string      `json:"student_name" db:"student_name"`
	OldValue     *float64     `json:"old_value" db:"old_value"`
	NewValue     *float64     `json:"new_value" db:"new_value"`
	ActorRole    string       `json:"actor_role" db:"actor_role"`
	ActorID      *int32       `json:"actor_id" db:"actor_id"`
	ActorName    *string      `json:"actor_name" db:"actor_name"`
	Endpoint     string       `json:"endpoint" db:"endpoint"`
	ChangedAt    timefmt.Time `json:"changed_at" db:"changed_at"`
}

const selectHistory = `
SELECT id, kind, submission_id, result_id, lesson_id, lesson_title, student_id, student_name,
       old_value, new_value, actor_role, actor_id, actor_name, endpoint, changed_at
FROM grade_history`

// lockGrade reads submission id's grade and locks the row until the
// transaction ends (404 when missing).
func (repo *Repo) lockGrade(ctx context.Context, id int32) (*int32, error) {
	var grade *int32
	err := repo.q.QueryRow(ctx, `SELECT grade FROM lesson_submissions WHERE id = $1 FOR UPDATE`, id).Scan(&grade)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoSubmission()
	}
	if err != nil {
		return nil, fmt.Errorf("lessons: lock grade: %w", err)
	}
	return grade, nil
}

// recordHomework writes the history row of a grade change on submission id
// (which must still exist: run it before a delete).
func (repo *Repo) recordHomework(ctx context.Context, id int32, actor auth.User, old, new *int32, endpoint string) error {
	const q = `
INSERT INTO grade_history (kind, submission_id, lesson_id, lesson_title, student_id, student_name,
                           actor_id, actor_name, actor_role, old_value, new_value, endpoint, changed_at)
SELECT 'homework', ls.id, ls.lesson_id, l.title, ls.user_id, st.full_name,
       a.id, a.full_name, $3, $4, $5, $6, now() AT TIME ZONE 'UTC'
FROM lesson_submissions ls
LEFT JOIN lessons l ON l.id = ls.lesson_id
LEFT JOIN users st ON st.id = ls.user_id
LEFT JOIN users a ON a.id = $2
WHERE ls.id = $1`
	if _, err := repo.q.Exec(ctx, q, id, actor.ID, string(actor.Role), old, new, endpoint); err != nil {
		return fmt.Errorf("lessons: record grade history: %w", err)
	}
	return nil
}

// deleteResultRecorded deletes result id and writes its history row in one
// statement (404 when missing).
func (repo *Repo) deleteResultRecorded(ctx context.Context, id int32, actor auth.User) error {
	const q = `
WITH d AS (DELETE FROM results WHERE id = $1 RETURNING id, user_id, lesson_id, score)
INSERT INTO grade_history (kind, result_id, lesson_id, lesson_title, student_id, student_name,
                           actor_id, actor_name, actor_role, old_value, new_value, endpoint, changed_at)
SELECT 'test', d.id, d.lesson_id, l.title, d.user_id, st.full_name,
       a.id, a.full_name, $3, d.score, NULL, $4, now() AT TIME ZONE 'UTC'
FROM d
LEFT JOIN lessons l ON l.id = d.lesson_id
LEFT JOIN users st ON st.id = d.user_id
LEFT JOIN users a ON a.id = $2`
	tag, err := repo.q.Exec(ctx, q, id, actor.ID, string(actor.Role), endpointDeleteResult)
	if err != nil {
		return fmt.Errorf("lessons: delete result: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errNoResult()
	}
	return nil
}

// grade is PATCH /lessons/submission/{submission_id}/grade: the grade and
// its history row in one transaction.
func (h *Handler) grade(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, pathErr := web.PathID(r, "submission_id")
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	grade, _ := b.Root().Object().Field("grade").Int()
	if err := apperr.JoinInvalid(pathErr, b.Err()); err != nil {
		return err
	}
	if err := h.changeGrade(ctx, u, id, &grade, endpointGrade); err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: "Оценка сохранена"})
}

// clearGrade is DELETE /lessons/submission/{submission_id}/grade (beyond
// the original): the grade becomes null again.
func (h *Handler) clearGrade(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, err := web.PathID(r, "submission_id")
	if err != nil {
		return err
	}
	if err := h.changeGrade(ctx, u, id, nil, endpointClearGrade); err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: "Оценка удалена"})
}

// changeGrade checks that u manages the submission's subject, then sets
// (or clears, grade nil) the grade and records it, in one transaction.
// Clearing a grade that is already null changes nothing and records nothing.
func (h *Handler) changeGrade(ctx context.Context, u auth.User, id int32, grade *int32, endpoint string) error {
	if err := requireManageSubmission(ctx, NewRepo(h.pool), u, id); err != nil {
		return err
	}
	return h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		repo := NewRepo(tx)
		old, err := repo.lockGrade(ctx, id)
		if err != nil {
			return err
		}
		if old == nil && grade == nil {
			return nil
		}
		const q = `UPDATE lesson_submissions SET grade = $2 WHERE id = $1`
		if _, err := tx.Exec(ctx, q, id, grade); err != nil {
			return fmt.Errorf("lessons: set grade: %w", err)
		}
		return repo.recordHomework(ctx, id, u, old, grade, endpoint)
	})
}

// history is GET /lessons/submission/{submission_id}/history: a teacher who
// manages the subject or an admin sees every row; the student who owns the
// submission sees its rows without the actor's identity (role only).
func (h *Handler) history(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, pathErr := web.PathID(r, "submission_id")
	page, pageErr := web.ParsePage(r)
	if err := apperr.JoinInvalid(pathErr, pageErr); err != nil {
		return err
	}
	repo := NewRepo(h.pool)
	owner, err := repo.submissionOwner(ctx, id)
	if err != nil {
		return err
	}
	anonymous := false
	if u.Role == auth.Student {
		if owner == nil || *owner != u.ID {
			return apperr.Forbidden("Недостаточно прав")
		}
		anonymous = true
	} else if err := requireManageSubmission(ctx, repo, u, id); err != nil {
		return err
	}
	entries, err := db.All[HistoryEntry](ctx, h.pool, "lessons: read grade history", selectHistory+` WHERE submission_id = $1 ORDER BY id`, id)
	if err != nil {
		return err
	}
	if anonymous {
		for i := range entries {
			entries[i].ActorID, entries[i].ActorName = nil, nil
		}
	}
	return web.List(w, page, entries)
}

// lessonHistory is GET /lessons/{lesson_id}/history: every history row of
// the lesson (homework grades and deleted test results), for a teacher who
// manages the subject or an admin.
func (h *Handler) lessonHistory(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, pathErr := web.PathID(r, "lesson_id")
	page, pageErr := web.ParsePage(r)
	if err := apperr.JoinInvalid(pathErr, pageErr); err != nil {
		return err
	}
	if err := requireManageLesson(ctx, h.pool, u, id); err != nil {
		return err
	}
	entries, err := db.All[HistoryEntry](ctx, h.pool, "lessons: read grade history", selectHistory+` WHERE lesson_id = $1 ORDER BY id`, id)
	if err != nil {
		return err
	}
	return web.List(w, page, entries)
}

// requireManageSubmission checks that submission id exists (404) and that u
// manages its subject (403).
func requireManageSubmission(ctx context.Context, repo *Repo, u auth.User, id int32) error {
	subject, err := repo.SubmissionSubject(ctx, id)
	return policy.RequireManage(u, subject, err, msgNoSubmission, "Нет доступа к оценке")
}

// submissionOwner reads the owner of submission id (404 when missing).
func (repo *Repo) submissionOwner(ctx context.Context, id int32) (*int32, error) {
	var owner *int32
	err := repo.q.QueryRow(ctx, `SELECT user_id FROM lesson_submissions WHERE id = $1`, id).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoSubmission()
	}
	if err != nil {
		return nil, fmt.Errorf("lessons: read submission: %w", err)
	}
	return owner, nil
}

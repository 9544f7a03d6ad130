package lessons

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/catalog"
	"platform/internal/db"
	"platform/internal/policy"
	"platform/internal/timefmt"
	"platform/internal/web"
)

// Homework deadlines (issue 24, README "Deadlines and the grade history").
//
// A lesson may carry due_at and cutoff_at (whole seconds, UTC; cutoff_at ≥
// due_at when both are set). A student's extension replaces either time for
// that student. Deadlines are whole seconds: a submission made during the
// due second is on time, one made in the next second is 1 second late; one
// made after the cut-off second is refused with 400. The decision and the
// row's submitted_at come from the same transaction's now(), so they agree.

// deadlineInvalid is the 422 reason of a datetime that is not RFC 3339 in
// whole seconds.
const deadlineInvalid = "Input should be an RFC 3339 datetime in whole seconds"

// cutoffBeforeDue explains the cross-field 422/400.
const cutoffBeforeDue = "cutoff_at не может быть раньше due_at"

// optDeadline reads an optional deadline: nil when absent or null.
func optDeadline(v web.Value) (*time.Time, bool) {
	if v.Null() {
		return nil, true
	}
	s, ok := v.Raw().(string)
	if !ok {
		v.Fail("datetime_type", deadlineInvalid, nil)
		return nil, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Nanosecond() != 0 || t.Year() < 1 || t.Year() > 9999 {
		v.Fail("datetime_parsing", deadlineInvalid, nil)
		return nil, false
	}
	t = t.UTC()
	return &t, true
}

// deadlines is a pair of optional times.
type deadlines struct {
	Due, Cutoff *time.Time
}

// ordered reports whether cutoff ≥ due (or either is unset).
func (d deadlines) ordered() bool {
	return d.Due == nil || d.Cutoff == nil || !d.Cutoff.Before(*d.Due)
}

// readDeadlines reads due_at and cutoff_at of a body, with has telling
// which were present; a pair out of order is a 422 on cutoff_at.
func readDeadlines(b *web.Body, o web.Object) (d deadlines, hasDue, hasCutoff bool) {
	due, cutoff := o.Field("due_at"), o.Field("cutoff_at")
	var okDue, okCutoff bool
	d.Due, okDue = optDeadline(due)
	d.Cutoff, okCutoff = optDeadline(cutoff)
	if okDue && okCutoff && !d.ordered() {
		b.Add(apperr.ValueError(cutoff.Loc(), cutoff.Raw(), cutoffBeforeDue))
	}
	return d, o.Has("due_at"), o.Has("cutoff_at")
}

// lateness decides a submission made at now (truncated to the second)
// against the effective deadlines: refused after the cut-off second, late by
// whole seconds after the due second.
func lateness(now time.Time, d deadlines) (lateSeconds *int32, refused bool) {
	if d.Cutoff != nil && now.After(*d.Cutoff) {
		return nil, true
	}
	if d.Due != nil && now.After(*d.Due) {
		s := int32(min(now.Sub(*d.Due)/time.Second, math.MaxInt32))
		return &s, false
	}
	return nil, false
}

// errCutoffPassed is the 400 of a submission after the effective cut-off.
func errCutoffPassed(cutoff time.Time) error {
	return apperr.BadRequest("Приём работ закрыт: срок истёк " + timefmt.Format(cutoff))
}

// EffectiveDeadlines reads the lesson's deadlines for the student (the
// extension's times replacing the lesson's) and the transaction's now()
// truncated to the second.
func (repo *Repo) EffectiveDeadlines(ctx context.Context, lessonID, userID int32) (deadlines, time.Time, error) {
	const q = `
SELECT coalesce(e.due_at, l.due_at), coalesce(e.cutoff_at, l.cutoff_at),
       date_trunc('second', now() AT TIME ZONE 'UTC')
FROM lessons l
LEFT JOIN lesson_extensions e ON e.lesson_id = l.id AND e.user_id = $2
WHERE l.id = $1`
	var d deadlines
	var now time.Time
	err := repo.q.QueryRow(ctx, q, lessonID, userID).Scan(&d.Due, &d.Cutoff, &now)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, now, apperr.NotFound("Урок не найден")
	}
	if err != nil {
		return d, now, fmt.Errorf("lessons: read deadlines: %w", err)
	}
	return utc(d), now.UTC(), nil
}

// utc marks naive timestamps (read as UTC wall time) as UTC.
func utc(d deadlines) deadlines {
	fix := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		return &u
	}
	return deadlines{Due: fix(d.Due), Cutoff: fix(d.Cutoff)}
}

// checkCutoff refuses a submission after the effective cut-off (400).
func checkCutoff(ctx context.Context, repo *Repo, lessonID, userID int32) (*int32, error) {
	d, now, err := repo.EffectiveDeadlines(ctx, lessonID, userID)
	if err != nil {
		return nil, err
	}
	late, refused := lateness(now, d)
	if refused {
		return nil, errCutoffPassed(*d.Cutoff)
	}
	return late, nil
}

// setDeadlines is PATCH /lessons/{lesson_id}/deadlines: a teacher who
// manages the subject (or an admin) sets or clears (null) due_at and/or
// cutoff_at; an absent member keeps its value. It answers the lesson.
func (h *Handler) setDeadlines(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, pathErr := web.PathID(r, "lesson_id")
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	d, hasDue, hasCutoff := readDeadlines(b, b.Root().Object())
	if err := apperr.JoinInvalid(pathErr, b.Err()); err != nil {
		return err
	}
	var lesson catalog.Lesson
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		if err := requireManageLesson(ctx, tx, u, id); err != nil {
			return err
		}
		var cur deadlines
		const lock = `SELECT due_at, cutoff_at FROM lessons WHERE id = $1 FOR UPDATE`
		if err := tx.QueryRow(ctx, lock, id).Scan(&cur.Due, &cur.Cutoff); err != nil {
			return fmt.Errorf("lessons: read deadlines: %w", err)
		}
		if hasDue {
			cur.Due = d.Due
		}
		if hasCutoff {
			cur.Cutoff = d.Cutoff
		}
		if !cur.ordered() {
			return apperr.BadRequest(cutoffBeforeDue)
		}
		const q = `UPDATE lessons SET due_at = $2::timestamp, cutoff_at = $3::timestamp WHERE id = $1`
		if _, err := tx.Exec(ctx, q, id, naive(cur.Due), naive(cur.Cutoff)); err != nil {
			return fmt.Errorf("lessons: set deadlines: %w", err)
		}
		var err error
		lesson, err = NewRepo(tx).Lesson(ctx, u.ID, id, false)
		return err
	})
	if err != nil {
		return err
	}
	return web.OK(w, lesson)
}

// naive is a UTC time for a timestamp-without-time-zone parameter.
func naive(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// requireManageLesson checks, in the transaction, that the lesson exists
// (404) and that u manages its subject (403).
func requireManageLesson(ctx context.Context, q db.DBTX, u auth.User, lessonID int32) error {
	subject, err := policy.LessonSubject(ctx, q, lessonID)
	return policy.RequireManage(u, subject, err, "Урок не найден", "Нет доступа к предмету")
}

// Extension is one student's extension on a lesson (GET/PUT
// /lessons/{lesson_id}/extensions…).
type Extension struct {
	LessonID    int32         `json:"lesson_id" db:"lesson_id"`
	UserID      int32         `json:"user_id" db:"user_id"`
	StudentName *string       `json:"student_name" db:"student_name"`
	DueAt       *timefmt.Time `json:"due_at" db:"due_at"`
	CutoffAt    *timefmt.Time `json:"cutoff_at" db:"cutoff_at"`
	GrantedBy   *int32        `json:"granted_by" db:"granted_by"`
	GrantedAt   timefmt.Time  `json:"granted_at" db:"granted_at"`
}

const selectExtension = `
SELECT e.lesson_id, e.user_id, u.full_name AS student_name, e.due_at, e.cutoff_at, e.granted_by, e.granted_at
FROM lesson_extensions e
LEFT JOIN users u ON u.id = e.user_id`

// putExtension is PUT /lessons/{lesson_id}/extensions/{user_id}: grants
// (or replaces) a student's extension. Each time given replaces the
// lesson's for that student; at least one must be set. The effective pair
// must stay ordered (400 otherwise).
func (h *Handler) putExtension(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	lessonID, pathErr := web.PathID(r, "lesson_id")
	userID, userErr := web.PathID(r, "user_id")
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	d, _, _ := readDeadlines(b, o)
	if o.OK() && b.Err() == nil && d.Due == nil && d.Cutoff == nil {
		b.Add(apperr.ValueError([]any{"body"}, nil, "нужно указать due_at или cutoff_at"))
	}
	if err := apperr.JoinInvalid(pathErr, userErr, b.Err()); err != nil {
		return err
	}
	var ext Extension
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		if err := requireManageLesson(ctx, tx, u, lessonID); err != nil {
			return err
		}
		if err := requireStudent(ctx, tx, userID); err != nil {
			return err
		}
		const upsert = `
INSERT INTO lesson_extensions (lesson_id, user_id, due_at, cutoff_at, granted_by, granted_at)
VALUES ($1, $2, $3::timestamp, $4::timestamp, $5, now() AT TIME ZONE 'UTC')
ON CONFLICT (lesson_id, user_id) DO UPDATE
SET due_at = EXCLUDED.due_at, cutoff_at = EXCLUDED.cutoff_at,
    granted_by = EXCLUDED.granted_by, granted_at = EXCLUDED.granted_at`
		if _, err := tx.Exec(ctx, upsert, lessonID, userID, naive(d.Due), naive(d.Cutoff), u.ID); err != nil {
			return fmt.Errorf("lessons: put extension: %w", err)
		}
		eff, _, err := NewRepo(tx).EffectiveDeadlines(ctx, lessonID, userID)
		if err != nil {
			return err
		}
		if !eff.ordered() {
			return apperr.BadRequest(cutoffBeforeDue)
		}
		ext, err = db.One[Extension](ctx, tx, "lessons: read extension", errNoExtension(),
			selectExtension+` WHERE e.lesson_id = $1 AND e.user_id = $2`, lessonID, userID)
		return err
	})
	if err != nil {
		return err
	}
	return web.OK(w, ext)
}

// errNoExtension is the 404 of a missing extension.
func errNoExtension() error { return apperr.NotFound("Продление не найдено") }

// requireStudent checks that user id exists and is a student (404).
func requireStudent(ctx context.Context, q db.DBTX, id int32) error {
	var role string
	err := q.QueryRow(ctx, `SELECT role FROM users WHERE id = $1`, id).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && role != string(auth.Student)) {
		return apperr.NotFound("Студент не найден")
	}
	if err != nil {
		return fmt.Errorf("lessons: read student: %w", err)
	}
	return nil
}

// deleteExtension is DELETE /lessons/{lesson_id}/extensions/{user_id}.
func (h *Handler) deleteExtension(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	lessonID, pathErr := web.PathID(r, "lesson_id")
	userID, userErr := web.PathID(r, "user_id")
	if err := apperr.JoinInvalid(pathErr, userErr); err != nil {
		return err
	}
	err := h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		if err := requireManageLesson(ctx, tx, u, lessonID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM lesson_extensions WHERE lesson_id = $1 AND user_id = $2`, lessonID, userID)
		if err != nil {
			return fmt.Errorf("lessons: delete extension: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return errNoExtension()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: "Продление удалено"})
}

// listExtensions is GET /lessons/{lesson_id}/extensions, by student id.
func (h *Handler) listExtensions(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	lessonID, err := web.PathID(r, "lesson_id")
	if err != nil {
		return err
	}
	if err := requireManageLesson(ctx, h.pool, u, lessonID); err != nil {
		return err
	}
	exts, err := db.All[Extension](ctx, h.pool, "lessons: list extensions", selectExtension+` WHERE e.lesson_id = $1 ORDER BY e.user_id`, lessonID)
	if err != nil {
		return err
	}
	return web.OK(w, exts)
}

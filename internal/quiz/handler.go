package quiz

import (
	"context"
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/policy"
	"platform/internal/purge"
	"platform/internal/web"
)

// Handler serves /tests.
type Handler struct {
	pool *db.Pool
	repo *Repo
}

// NewHandler returns the /tests handler on the pool.
func NewHandler(pool *db.Pool) *Handler {
	return &Handler{pool: pool, repo: NewRepo(pool)}
}

// get is GET /tests/{test_id}: TestFull with the caller's result. Students
// never receive correct_option_index. Five queries at most, whatever the
// test's size: test, access (students only), questions, options, result.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, err := web.PathID(r, "test_id")
	if err != nil {
		return err
	}
	t, err := h.readable(ctx, u, id)
	if err != nil {
		return err
	}
	qs, err := h.repo.questions(ctx, t.ID)
	if err != nil {
		return err
	}
	if err := h.repo.fillOptions(ctx, qs); err != nil {
		return err
	}
	if u.Role == auth.Student {
		for i := range qs {
			qs[i].CorrectOptionIndex = nil
		}
	}
	res, err := h.repo.result(ctx, t.ID, u.ID)
	if err != nil {
		return err
	}
	return web.OK(w, Full{Test: t.Test, Questions: qs, Result: res})
}

// bySubject is GET /tests/by-subject/{subject_id}: the subject's tests by id.
func (h *Handler) bySubject(w http.ResponseWriter, r *http.Request) error {
	page, pageErr := web.ParsePage(r)
	if pageErr != nil {
		return pageErr
	}
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, err := web.PathID(r, "subject_id")
	if err != nil {
		return err
	}
	s, err := load(ctx, h.repo.subject, id, msgSubjectNotFound)
	if err != nil {
		return err
	}
	if err := canRead(ctx, h.repo, u, *s); err != nil {
		return err
	}
	list, err := h.repo.bySubject(ctx, id)
	if err != nil {
		return err
	}
	return web.List(w, page, list)
}

// delete is DELETE /tests/{test_id}: the test with its questions, options
// and results (API.md §0.8), in one transaction; 204 with no body.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, err := web.PathID(r, "test_id")
	if err != nil {
		return err
	}
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		t, err := NewRepo(tx).test(ctx, id, true)
		if err := policy.RequireManage(u, t.subject(), err, msgTestNotFound, msgNoAccess); err != nil {
			return err
		}
		return purge.Tests(ctx, tx, []int32{id})
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// readable loads the test and checks the caller may read its subject
// (404 Тест не найден, then 403 Нет доступа к предмету).
func (h *Handler) readable(ctx context.Context, u auth.User, id int32) (testRow, error) {
	t, err := h.repo.test(ctx, id, false)
	if errors.Is(err, errNotFound) {
		return testRow{}, apperr.NotFound(msgTestNotFound)
	}
	if err != nil {
		return testRow{}, err
	}
	return t, canRead(ctx, h.repo, u, t.subject())
}

// canRead refuses a caller who may not read the subject (API.md §0.6).
func canRead(ctx context.Context, repo *Repo, u auth.User, s policy.Subject) error {
	ok, err := policy.CanReadSubject(ctx, repo.q, u, s)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Forbidden(msgNoAccess)
	}
	return nil
}

// subject is the test's subject as the access rules take it.
func (t testRow) subject() policy.Subject {
	return policy.Subject{ID: t.SubjectID, ModuleID: t.ModuleID, TeacherID: t.TeacherID}
}

// dbRefusal turns constraint violations a concurrent request can cause into
// the contract's answers, so a race never surfaces as a 500.
func dbRefusal(err error) error {
	refuse := func(e *apperr.Error) error { e.Err = err; return e }
	switch {
	case err == nil:
		return nil
	case db.IsUniqueViolation(err, uqTestLesson):
		return refuse(apperr.BadRequest(msgLessonTaken))
	case db.IsUniqueViolation(err, uqResultUserTest):
		return refuse(apperr.BadRequest(msgAlreadyTaken))
	case db.IsForeignKeyViolation(err, fkTestLesson):
		return refuse(apperr.NotFound(msgLessonNotFound))
	case db.IsForeignKeyViolation(err, fkTestSubject):
		return refuse(apperr.NotFound(msgSubjectNotFound))
	case db.IsForeignKeyViolation(err, fkResultTest):
		return refuse(apperr.NotFound(msgTestNotFound))
	case db.IsForeignKeyViolation(err, fkResultLesson):
		return refuse(apperr.BadRequest(msgNotLinked))
	case db.IsForeignKeyViolation(err, fkResultUser):
		return refuse(apperr.Unauthenticated(msgUserGone))
	}
	return err
}

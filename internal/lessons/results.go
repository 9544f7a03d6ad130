package lessons

import (
	"net/http"

	"platform/internal/auth"
	"platform/internal/policy"
	"platform/internal/web"
)

// lessonResults is GET /lessons/{lesson_id}/submissions/tests.
func (h *Handler) lessonResults(w http.ResponseWriter, r *http.Request) error {
	page, pageErr := web.ParsePage(r)
	if pageErr != nil {
		return pageErr
	}
	lessonID, err := h.requireReview(r)
	if err != nil {
		return err
	}
	res, err := NewRepo(h.pool).LessonResults(r.Context(), lessonID)
	if err != nil {
		return err
	}
	return web.List(w, page, res)
}

// deleteResult is DELETE /lessons/result/{result_id}: whoever manages the
// subject of the result's lesson (or of its test when it has no lesson)
// may delete it, so the student can take the test again.
func (h *Handler) deleteResult(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, err := web.PathID(r, "result_id")
	if err != nil {
		return err
	}
	repo := NewRepo(h.pool)
	subject, ok, err := repo.ResultSubject(ctx, id)
	denied := "Нет доступа к удалению"
	if !ok { // neither lesson nor test: an admin's alone
		denied = "Нет доступа"
	}
	if err := policy.RequireManage(u, subject, err, msgNoResult, denied); err != nil {
		return err
	}
	if err := repo.deleteResultRecorded(ctx, id, u); err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: "Результат удалён"})
}

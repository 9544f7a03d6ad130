// Package grades serves the student's grade summary, GET
// /lessons/student/grades (API.md §8): homework grades and test scores
// of the caller in one list. It is mounted on the /lessons router next to
// package lessons; chi prefers the static "student" segment to "{lesson_id}".
package grades

import (
	"net/http"

	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/web"
)

// Handler serves the grade summary.
type Handler struct {
	repo *Repo
}

// NewHandler returns the grade summary handler.
func NewHandler(pool *db.Pool) *Handler { return &Handler{repo: NewRepo(pool)} }

// summary is GET /lessons/student/grades: the caller's own data, any role.
func (h *Handler) summary(w http.ResponseWriter, r *http.Request) error {
	page, pageErr := web.ParsePage(r)
	if pageErr != nil {
		return pageErr
	}
	gs, err := h.repo.ForUser(r.Context(), auth.MustUser(r.Context()).ID)
	if err != nil {
		return err
	}
	return web.List(w, page, gs)
}

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
	u := auth.MustUser(r.Context())
	buf := web.Buffer()
	body, err := h.repo.AppendForUser(r.Context(), *buf, u.ID, page)
	if err != nil {
		web.Release(buf, *buf)
		return err
	}
	err = web.Parts(w, body) // written out before it returns: the buffer is free again
	web.Release(buf, body)
	return err
}

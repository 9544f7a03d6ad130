// Package grades serves the student's grade summary, GET
// /lessons/student/grades (API.md §8): homework grades and test scores
// of the caller in one list. It is mounted on the /lessons router next to
// package lessons; chi prefers the static "student" segment to "{lesson_id}".
package grades

import (
	"net/http"
	"sync"

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
	buf := bodies.Get().(*[]byte)
	body, err := h.repo.AppendForUser(r.Context(), (*buf)[:0], u.ID, page)
	if err != nil {
		bodies.Put(buf)
		return err
	}
	err = web.Parts(w, body) // written out before it returns: the buffer is free again
	if cap(body) <= maxPooledBody {
		*buf = body[:0]
		bodies.Put(buf)
	}
	return err
}

// bodies are summary buffers reused across requests, so a summary of tens
// of KB is not garbage every time; one larger than maxPooledBody (a student
// with thousands of grades) is left to the collector.
var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

const maxPooledBody = 1 << 20

// Package tests is the quiz domain of API.md §9 (/tests): authoring quizzes
// (tests with questions and options), reading them with the answers hidden
// from students, and taking them once per student. It is application code,
// not test code; the name follows the API.
package tests

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes mounts /tests. authn is the Authenticate middleware; it wraps each
// route (not the router) so unknown paths and wrong methods still answer
// 404/405 without a token, as FastAPI does. The static paths /create,
// /submit and /by-subject/… take precedence over /{test_id} in chi's tree.
func (h *Handler) Routes(authn func(http.Handler) http.Handler) chi.Router {
	r := chi.NewRouter()
	r.Group(func(r chi.Router) {
		r.Use(authn)
		r.With(auth.TeacherOrAdmin).Post("/create", web.Handle(h.create))
		r.With(auth.StudentOnly).Post("/submit", web.Handle(h.submit))
		r.Get("/by-subject/{subject_id}", web.Handle(h.bySubject))
		r.Get("/{test_id}", web.Handle(h.get))
		r.With(auth.TeacherOrAdmin).Put("/{test_id}", web.Handle(h.update))
		r.With(auth.TeacherOrAdmin).Delete("/{test_id}", web.Handle(h.delete))
	})
	return r
}

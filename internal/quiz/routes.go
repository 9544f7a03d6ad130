// Package quiz is the quiz domain of API.md §9 (/tests): authoring quizzes
// (tests with questions and options), reading them with the answers hidden
// from students, and taking them once per student.
package quiz

import (
	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes adds /tests. The static paths /create, /submit and /by-subject/…
// take precedence over /{test_id} in chi's tree.
func (h *Handler) Routes(r chi.Router, g auth.Guards) {
	r.With(g.Teacher).Post("/create", web.Handle(h.create))
	r.With(g.Student).Post("/submit", web.Handle(h.submit))
	r.With(g.Authn).Get("/by-subject/{subject_id}", web.Handle(h.bySubject))
	r.With(g.Authn).Get("/{test_id}", web.Handle(h.get))
	r.With(g.Teacher).Put("/{test_id}", web.Handle(h.update))
	r.With(g.Teacher).Delete("/{test_id}", web.Handle(h.delete))
}

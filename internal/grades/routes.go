package grades

import (
	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes adds the grade summary to the /lessons router (API.md §8); chi
// prefers the static /student/grades over lessons' /{lesson_id}/….
func (h *Handler) Routes(r chi.Router, g auth.Guards) {
	r.With(g.Authn).Get("/student/grades", web.Handle(h.summary)) // own data
}

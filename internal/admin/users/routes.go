package users

import (
	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes adds /admin/users (API.md §4): admins only. "/" also answers
// "/admin/users/" (API.md §0.3).
func (h *Handler) Routes(r chi.Router, g auth.Guards) {
	r.With(g.Admin).Post("/", web.Handle(h.create))
	r.With(g.Admin).Get("/", web.Handle(h.list))
	r.With(g.Admin).Patch("/reset_password", web.Handle(h.resetPassword))
	r.With(g.Admin).Delete("/{iin}", web.Handle(h.delete))
}

package profile

import (
	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes adds /user (API.md §3): any authenticated user, on their own account.
func (h *Handler) Routes(r chi.Router, g auth.Guards) {
	r.With(g.Authn).Get("/by-iin/{iin}", web.Handle(h.userByIIN))
	r.With(g.Authn).Post("/update-phone", web.Handle(h.updatePhone))
	r.With(g.Authn).Post("/upload-photo", web.Handle(h.uploadPhoto))
	r.With(g.Authn).Patch("/change-password", web.Handle(h.changePassword))
}

package auth

import (
	"github.com/go-chi/chi/v5"

	"platform/internal/web"
)

// Routes adds /auth (API.md §2): login and token are public.
func (h *Handler) Routes(r chi.Router, g Guards) {
	r.Post("/login", web.Handle(h.login))
	r.Post("/token", web.Handle(h.token))
	r.With(g.Authn).Get("/check", web.Handle(h.check))
	r.Post("/refresh", web.Handle(h.refresh))
	r.With(g.Authn).Post("/logout", web.Handle(h.logout))
}

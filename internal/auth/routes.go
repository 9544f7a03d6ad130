package auth

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"platform/internal/web"
)

// Routes mounts /auth. authn is the Authenticate middleware.
func (h *Handler) Routes(authn func(http.Handler) http.Handler) chi.Router {
	r := chi.NewRouter()
	r.Post("/login", web.Handle(h.login))
	r.Post("/token", web.Handle(h.token))
	r.With(authn).Get("/check", web.Handle(h.check))
	// Issue 15: refresh tokens.
	r.Post("/refresh", web.Handle(h.refresh))
	r.With(authn).Post("/logout", web.Handle(h.logout))
	return r
}

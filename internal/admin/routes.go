package admin

import (
	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
)

// Routes mounts admin's URL areas on the root router r; each sub-package's
// routes.go lists its endpoints and their guards.
func (h *Handler) Routes(r chi.Router, g auth.Guards) {
	g.Mount(r, "/user", h.profile.Routes)
	g.Mount(r, "/admin/users", h.users.Routes)
	g.Mount(r, "/admin/groups", h.groups.Routes)
	g.Mount(r, "/admin/modules", h.modules.Routes)
}

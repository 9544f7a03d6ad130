package groups

import (
	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes adds /admin/groups (API.md §5): admins only. "/" also answers
// "/admin/groups/" (API.md §0.3).
func (h *Handler) Routes(r chi.Router, g auth.Guards) {
	r.With(g.Admin).Post("/", web.Handle(h.create))
	r.With(g.Admin).Get("/", web.Handle(h.list))
	r.With(g.Admin).Post("/upload-excel", web.Handle(h.importGroup))
	r.With(g.Admin).Get("/imports", web.Handle(h.imports))
	r.With(g.Admin).Get("/imports/{import_id}", web.Handle(h.importJob))
	r.With(g.Admin).Get("/imports/{import_id}/credentials.xlsx", web.Handle(h.credentialsSheet))
	r.With(g.Admin).Get("/{group_id}", web.Handle(h.get))
	r.With(g.Admin).Delete("/{group_id}", web.Handle(h.delete))
	r.With(g.Admin).Delete("/{group_id}/with-users", web.Handle(h.deleteWithUsers))
	r.With(g.Admin).Post("/{group_id}/users", web.Handle(h.addUsers))
	r.With(g.Admin).Get("/{group_id}/users", web.Handle(h.members))
	r.With(g.Admin).Delete("/{group_id}/users/{user_id}", web.Handle(h.removeUser))
}

package modules

import (
	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes adds /admin/modules (API.md §6): admins only, except reading one
// module, which any user may (§0.6 decides what they see). "/" also answers
// "/admin/modules/" (API.md §0.3).
func (h *Handler) Routes(r chi.Router, g auth.Guards) {
	r.With(g.Authn).Get("/{module_id}", web.Handle(h.get))
	r.With(g.Admin).Post("/", web.Handle(h.create))
	r.With(g.Admin).Get("/", web.Handle(h.list))
	r.With(g.Admin).Get("/with-teachers", web.Handle(h.listWithTeachers))
	r.With(g.Admin).Put("/{module_id}", web.Handle(h.update))
	r.With(g.Admin).Delete("/{module_id}", web.Handle(h.delete))
	r.With(g.Admin).Post("/{module_id}/subjects", web.Handle(h.createSubject))
	r.With(g.Admin).Delete("/subjects/{subject_id}", web.Handle(h.deleteSubject))
}

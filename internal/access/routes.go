package access

import (
	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes adds /access (API.md §7). Every endpoint needs a token; the
// object-level rules (§0.6) are applied by the handlers.
func (h *Handler) Routes(r chi.Router, g auth.Guards) {
	r.With(g.Admin).Get("/access-overview", web.Handle(h.overview))
	r.With(g.Admin).Post("/admin/group-to-module", web.Handle(h.groupToModule))
	r.With(g.Admin).Post("/admin/teacher-to-subject", web.Handle(h.teacherToSubject))
	r.With(g.Admin).Get("/module/{module_id}/groups", web.Handle(h.moduleGroups))
	r.With(g.Admin).Get("/admin-modules", web.Handle(h.adminModules))
	r.With(g.Admin).Get("/admin-modules/{module_id}", web.Handle(h.adminModule))
	r.With(g.Admin).Post("/subjects/{subject_id}/groups/{group_id}", web.Handle(h.linkSubjectGroup))
	r.With(g.Admin).Delete("/subjects/{subject_id}/groups/{group_id}", web.Handle(h.unlinkSubjectGroup))

	r.With(g.Teacher).Get("/teacher-modules", web.Handle(h.teacherModules))
	r.With(g.Teacher).Get("/teacher-modules/{module_id}", web.Handle(h.teacherModule))
	r.With(g.Teacher).Get("/teacher-subjects", web.Handle(h.teacherSubjects))

	// Any role; what each caller sees is decided by §0.6 in the handler.
	r.With(g.Authn).Get("/my-modules", web.Handle(h.myModules))
	r.With(g.Authn).Get("/my-modules/{module_id}", web.Handle(h.myModule))
	r.With(g.Authn).Get("/subjects/{subject_id}/lessons", web.Handle(h.subjectLessons))
	r.With(g.Authn).Get("/lessons/{lesson_id}", web.Handle(h.lesson))
}

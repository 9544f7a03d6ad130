package access

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes mounts /access (API.md §7). authn is the Authenticate middleware;
// every endpoint needs a token, the guard of each is named on its line, and
// the object-level rules (§0.6) are applied by the handlers.
func (h *Handler) Routes(authn func(http.Handler) http.Handler) chi.Router {
	// authn sits on each route, not on the router, so unknown paths and
	// wrong methods answer 404/405 before authentication, as FastAPI does.
	r := chi.NewRouter()
	admin := r.With(authn, auth.AdminOnly)
	admin.Get("/access-overview", web.Handle(h.overview))
	admin.Post("/admin/group-to-module", web.Handle(h.groupToModule))
	admin.Post("/admin/teacher-to-subject", web.Handle(h.teacherToSubject))
	admin.Get("/module/{module_id}/groups", web.Handle(h.moduleGroups))
	admin.Get("/admin-modules", web.Handle(h.adminModules))
	admin.Get("/admin-modules/{module_id}", web.Handle(h.adminModule))
	admin.Post("/subjects/{subject_id}/groups/{group_id}", web.Handle(h.linkSubjectGroup))
	admin.Delete("/subjects/{subject_id}/groups/{group_id}", web.Handle(h.unlinkSubjectGroup))

	teacher := r.With(authn, auth.TeacherOrAdmin)
	teacher.Get("/teacher-modules", web.Handle(h.teacherModules))
	teacher.Get("/teacher-modules/{module_id}", web.Handle(h.teacherModule))
	teacher.Get("/teacher-subjects", web.Handle(h.teacherSubjects))

	// Any role; what each caller sees is decided by §0.6 in the handler.
	anyone := r.With(authn)
	anyone.Get("/my-modules", web.Handle(h.myModules))
	anyone.Get("/my-modules/{module_id}", web.Handle(h.myModule))
	anyone.Get("/subjects/{subject_id}/lessons", web.Handle(h.subjectLessons))
	anyone.Get("/lessons/{lesson_id}", web.Handle(h.lesson))
	return r
}

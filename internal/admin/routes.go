package admin

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Mount registers /user, /admin/users, /admin/groups and /admin/modules on r;
// authn is the Authenticate middleware. Paths carry no trailing slash: the
// router answers "/x/" as "/x" (API.md §0.3).
func (h *Handler) Mount(r chi.Router, authn func(http.Handler) http.Handler) {
	r.Route("/user", func(r chi.Router) {
		r.Use(authn)
		r.Get("/by-iin/{iin}", web.Handle(h.userByIIN))
		r.Post("/update-phone", web.Handle(h.updatePhone))
		r.Post("/upload-photo", web.Handle(h.uploadPhoto))
		r.Patch("/change-password", web.Handle(h.changePassword))
	})
	r.Route("/admin/users", func(r chi.Router) {
		r.Use(authn, auth.AdminOnly)
		r.Post("/", web.Handle(h.createUser))
		r.Get("/", web.Handle(h.listUsers))
		r.Patch("/reset_password", web.Handle(h.resetPassword))
		r.Delete("/{iin}", web.Handle(h.deleteUser))
	})
	r.Route("/admin/groups", func(r chi.Router) {
		r.Use(authn, auth.AdminOnly)
		r.Post("/", web.Handle(h.createGroup))
		r.Get("/", web.Handle(h.listGroups))
		r.Post("/upload-excel", web.Handle(h.importGroup))
		r.Get("/{group_id}", web.Handle(h.getGroup))
		r.Delete("/{group_id}", web.Handle(h.deleteGroup))
		r.Delete("/{group_id}/with-users", web.Handle(h.deleteGroupWithUsers))
		r.Post("/{group_id}/users", web.Handle(h.addGroupUsers))
		r.Get("/{group_id}/users", web.Handle(h.groupUsers))
		r.Delete("/{group_id}/users/{user_id}", web.Handle(h.removeGroupUser))
	})
	r.Route("/admin/modules", func(r chi.Router) {
		r.Use(authn)
		// Any authenticated user may read one module; §0.6 decides what they see.
		r.Get("/{module_id}", web.Handle(h.getModule))
		r.Group(func(r chi.Router) {
			r.Use(auth.AdminOnly)
			r.Post("/", web.Handle(h.createModule))
			r.Get("/", web.Handle(h.listModules))
			r.Get("/with-teachers", web.Handle(h.listModulesWithTeachers))
			r.Put("/{module_id}", web.Handle(h.updateModule))
			r.Delete("/{module_id}", web.Handle(h.deleteModule))
			r.Post("/{module_id}/subjects", web.Handle(h.createSubject))
			r.Delete("/subjects/{subject_id}", web.Handle(h.deleteSubject))
		})
	})
}

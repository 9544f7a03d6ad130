package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"platform/internal/access"
	"platform/internal/admin"
	"platform/internal/auth"
	"platform/internal/files"
	"platform/internal/grades"
	"platform/internal/lessons"
	"platform/internal/tests"
)

// mountDomains mounts every domain package's routes. Each package's
// routes.go names the guard of each endpoint.
func mountDomains(r chi.Router, d Deps, authn func(http.Handler) http.Handler, throttle *auth.Throttle) {
	// Domain mounts: one line (or block) per domain package.
	r.Mount("/tests", tests.NewHandler(d.Pool).Routes(authn))
	r.Mount("/access", access.NewHandler(d.Pool).Routes(authn))
	lessonsH, gradesH := lessons.NewHandler(d.Pool, d.Store), grades.NewHandler(d.Pool)
	r.Route("/lessons", func(r chi.Router) {
		lessonsH.Routes(r, authn)
		gradesH.Routes(r, authn) // static /student/grades wins over /{lesson_id}/…
	})
	files.NewHandler(d.Pool, d.Store).Routes(r, authn)
	admin.NewHandler(d.Pool, d.Hasher, throttle, d.Store).Mount(r, authn) // /user, /admin/{users,groups,modules}
}

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
	"platform/internal/openapi"
	"platform/internal/quiz"
	"platform/internal/ratelimit"
	"platform/internal/web"
)

// routes is the whole API on one screen: each URL prefix and the domain
// package whose routes.go lists its endpoints, each with its guard
// (auth.Guards: Authn = any token, Student, Teacher = teacher or admin,
// Admin). Guards sit on routes, never on a router, so an unknown path is 404
// and a wrong method 405 with or without a token (API.md §0.3).
//
//	/                      public   welcome, /healthz, /readyz, /openapi.json if APIDocs (below)
//	/auth                  auth     login, token public; check Authn
//	/user                  admin    admin/profile: the caller's own account (Authn)
//	/admin/users           admin    admin/users (Admin)
//	/admin/groups          admin    admin/groups with the Excel import and its jobs (Admin)
//	/admin/modules         admin    admin/modules (Admin; GET /{module_id} Authn)
//	/access                access   who sees what (Admin, Teacher, Authn)
//	/lessons               lessons  lessons, homework, grading (Authn, Teacher)
//	                       grades   GET /lessons/student/grades (Authn)
//	/tests                 quiz     quizzes (Teacher, Student, Authn)
//	/files/download/*      files    downloads (Authn); paths taken literally
//	/static/photos/*       files    avatars (public); paths taken literally
func routes(r chi.Router, d Deps) {
	authRepo := auth.NewRepo(d.Pool)
	g := auth.NewGuards(auth.Authenticate(d.Tokens, authRepo))
	throttle := auth.NewThrottle(d.Pool)
	lim := d.Limits.withDefaults()
	lookups := ratelimit.New(lim.IINLookupsPerMinute, lim.IINLookupBurst, maxLookupUsers)

	r.Get("/", web.Handle(welcome))
	r.Get("/healthz", web.Handle(healthz))
	ready := d.Ready
	if ready == nil {
		ready = d.Pool.Ping
	}
	r.Get("/readyz", web.Handle(readyz(ready)))
	if d.APIDocs {
		docs, err := openapi.Handler()
		if err != nil {
			// The document is embedded and checked by the tests: a broken
			// one is a build defect, not a runtime condition.
			panic(err)
		}
		r.Method(http.MethodGet, "/openapi.json", docs)
		// The interactive reference of the document (issue 24).
		ref := openapi.DocsHandler()
		r.Method(http.MethodGet, "/docs", ref)
		r.Method(http.MethodGet, "/docs/redoc.standalone.js", ref)
		r.Method(http.MethodGet, "/docs/LICENSE", ref)
	}

	adm := admin.NewHandler(d.Pool, d.Hasher, throttle, d.Store, lookups, d.Lifetime).Observe(d.Metrics).UseJobs(d.Jobs, d.Imports)
	g.Mount(r, "/auth", auth.NewHandler(authRepo, d.Tokens, d.Hasher, throttle, auth.NewSessions(d.Pool, d.Tokens)).AllowIINPasswords(d.Imports.UnsafeIINPasswords).Routes)
	g.Mount(r, "/user", adm.Profile.Routes)
	g.Mount(r, "/admin/users", adm.Users.Routes)
	g.Mount(r, "/admin/groups", adm.Groups.Routes)
	g.Mount(r, "/admin/modules", adm.Modules.Routes)
	g.Mount(r, "/access", access.NewHandler(d.Pool, d.TreeCacheBytes).Routes)
	g.Mount(r, "/lessons", lessons.NewHandler(d.Pool, d.Store, lim.MaxSubmissionsPerLesson).UseJobs(d.Jobs).Routes, grades.NewHandler(d.Pool).Routes)
	g.Mount(r, "/tests", quiz.NewHandler(d.Pool).Routes)
	// Not a sub-router: its paths are file names taken literally, and a
	// mount would answer /files/download itself (401 rather than 404).
	files.NewHandler(d.Pool, d.Store).Routes(r, g) // /files/download/*, /static/photos/* on the root
}

package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"platform/internal/access"
	"platform/internal/auth"
	"platform/internal/tests"
)

// mountDomains mounts every domain package's routes. Each package's
// routes.go names the guard of each endpoint.
func mountDomains(r chi.Router, d Deps, authn func(http.Handler) http.Handler, throttle *auth.Throttle) {
	// Domain mounts: one line (or block) per domain package.
	r.Mount("/tests", tests.NewHandler(d.Pool).Routes(authn))
	r.Mount("/access", access.NewHandler(d.Pool).Routes(authn))
}

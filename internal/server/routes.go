package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
)

// mountDomains mounts every domain package's routes. Each package's
// routes.go names the guard of each endpoint.
func mountDomains(r chi.Router, d Deps, authn func(http.Handler) http.Handler, throttle *auth.Throttle) {
	// Domain mounts: one line (or block) per domain package.
}

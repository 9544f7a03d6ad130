package auth

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Guards are the middleware a route table names on each endpoint: every
// guarded route reads r.With(g.Admin).Post("/", …). Each role guard
// authenticates first, so a route needs exactly one of them. They sit on
// routes, never on a router (r.Use), so that routing decides first: an
// unknown path is 404 and a wrong method 405, with or without a token, as in
// FastAPI (API.md §0.3).
type Guards struct {
	Authn   func(http.Handler) http.Handler // any valid token (401 otherwise)
	Student func(http.Handler) http.Handler // Authn, then StudentOnly
	Teacher func(http.Handler) http.Handler // Authn, then TeacherOrAdmin
	Admin   func(http.Handler) http.Handler // Authn, then AdminOnly
}

// NewGuards builds the guards on authn, the Authenticate middleware.
func NewGuards(authenticate func(http.Handler) http.Handler) Guards {
	// An account that must change its password can do only that (issue 21).
	authn := func(next http.Handler) http.Handler { return authenticate(RestrictUnchanged(next)) }
	then := func(role func(http.Handler) http.Handler) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler { return authn(role(next)) }
	}
	return Guards{Authn: authn, Student: then(StudentOnly), Teacher: then(TeacherOrAdmin), Admin: then(AdminOnly)}
}

// Routes is the one shape of a domain's route registration: it adds the
// domain's endpoints, each with its guard, to r.
type Routes func(r chi.Router, g Guards)

// Mount routes prefix to a sub-router holding the given domains' routes
// (several domains may share a prefix: /lessons holds lessons and grades).
func (g Guards) Mount(r chi.Router, prefix string, routes ...Routes) {
	r.Route(prefix, func(r chi.Router) {
		for _, add := range routes {
			add(r, g)
		}
	})
}

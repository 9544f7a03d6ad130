package grades

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"platform/internal/web"
)

// Routes registers the grade summary on r, the router mounted at /lessons;
// authn is the Authenticate middleware.
func (h *Handler) Routes(r chi.Router, authn func(http.Handler) http.Handler) {
	r.With(authn).Get("/student/grades", web.Handle(h.summary)) // auth (own data)
}

package files

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"platform/internal/web"
)

// Routes registers /files/download/* (auth) and /static/photos/* (public)
// on the root router; authn is the Authenticate middleware. The rest of the
// path is a file name taken literally (API.md §0.3), so wildcards are used
// and the handlers read the escaped path themselves. These are the only
// routes answering HEAD.
func (h *Handler) Routes(r chi.Router, authn func(http.Handler) http.Handler) {
	r.With(authn).Get(downloadPrefix+"*", web.Handle(h.download))
	r.With(authn).Head(downloadPrefix+"*", web.Handle(h.download))
	r.Get(photosPrefix+"*", web.Handle(h.photo))
	r.Head(photosPrefix+"*", web.Handle(h.photo))
}

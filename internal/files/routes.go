package files

import (
	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes adds /files/download/* (token) and /static/photos/* (public) to the
// root router: the rest of each path is a file name taken literally (API.md
// §0.3), so both are wildcards of the full prefix and the handlers read the
// escaped path themselves. These are the only routes answering HEAD.
func (h *Handler) Routes(r chi.Router, g auth.Guards) {
	r.With(g.Authn).Get(downloadPrefix+"*", web.Handle(h.download))
	r.With(g.Authn).Head(downloadPrefix+"*", web.Handle(h.download))
	r.Get(photosPrefix+"*", web.Handle(h.photo))
	r.Head(photosPrefix+"*", web.Handle(h.photo))
}

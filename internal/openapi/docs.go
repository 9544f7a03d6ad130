package openapi

import (
	"bytes"
	"embed"
	"fmt"
	"net/http"
	"sync"
)

// The interactive reference at GET /docs (issue 24, API_DOCS on): Redoc's
// standalone bundle (npm redoc 2.5.4, MIT, redoc/LICENSE), vendored and
// embedded, rendering GET /openapi.json. Redoc rather than Scalar: one
// 1.1 MB file with no runtime fetches of its own (Scalar's standalone is
// three times the size and loads fonts from a CDN unless configured off).
// The page loads nothing but /docs/redoc.standalone.js and /openapi.json;
// its Content-Security-Policy allows only this origin, so no request can
// leave it. The one URL of another origin the bundle would load on its own,
// the "API docs by Redocly" logo from cdn.redoc.ly (no option hides it in
// 2.5.4), is replaced when served by an empty data: URL, on which the
// image's onError hides it; the vendored file stays byte for byte npm's. The bundle auto-starts on the <redoc spec-url> element: no
// inline script.

//go:embed redoc/redoc.standalone.js redoc/LICENSE redoc/redoc.standalone.js.LICENSE.txt
var redoc embed.FS

// DocsCSP is the Content-Security-Policy of the /docs responses: this
// origin only; Redoc's styled-components need inline styles, its search
// runs in a blob: worker, its logo and icons are data: URLs.
const DocsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

const docsPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Online Platform API — reference</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="/docs/redoc.standalone.js"></script>
</body>
</html>
`

// redocLogo is the bundle's only self-loading URL of another origin.
const redocLogo = "https://cdn.redoc.ly/redoc/logo-mini.svg"

// Bundle is the Redoc bundle as served: the vendored file with redocLogo
// replaced by an empty data: URL.
var Bundle = sync.OnceValues(func() ([]byte, error) {
	b, err := redoc.ReadFile("redoc/redoc.standalone.js")
	if err != nil {
		return nil, err
	}
	if bytes.Count(b, []byte(redocLogo)) != 1 {
		return nil, fmt.Errorf("openapi: the Redoc bundle no longer has the logo URL once")
	}
	return bytes.Replace(b, []byte(redocLogo), []byte("data:,"), 1), nil
})

// DocsHandler serves GET /docs (the page), /docs/redoc.standalone.js and
// /docs/LICENSE (the bundle's licence and its third-party notices).
func DocsHandler() http.Handler {
	serve := func(contentType string, body func() ([]byte, error)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			b, err := body()
			if err != nil {
				http.Error(w, "internal error", http.StatusInternalServerError) // embedded: cannot happen
				return
			}
			h := w.Header()
			h.Set("Content-Security-Policy", DocsCSP)
			h.Set("Content-Type", contentType)
			h.Set("Cache-Control", "no-cache")
			_, _ = w.Write(b)
		}
	}

	license := func() ([]byte, error) {
		a, err := redoc.ReadFile("redoc/LICENSE")
		if err != nil {
			return nil, err
		}
		b, err := redoc.ReadFile("redoc/redoc.standalone.js.LICENSE.txt")
		return append(append(a, "\n\nThird-party notices of redoc.standalone.js:\n\n"...), b...), err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /docs", serve("text/html; charset=utf-8", func() ([]byte, error) { return []byte(docsPage), nil }))
	mux.Handle("GET /docs/redoc.standalone.js", serve("text/javascript; charset=utf-8", Bundle))
	mux.Handle("GET /docs/LICENSE", serve("text/plain; charset=utf-8", license))
	return mux
}

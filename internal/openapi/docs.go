package openapi

import (
	"embed"
	"net/http"
)

// The interactive reference at GET /docs (issue 24, API_DOCS on): Redoc's
// standalone bundle (npm redoc 2.5.4, MIT, redoc/LICENSE), vendored and
// embedded, rendering GET /openapi.json. Redoc rather than Scalar: one
// 1.1 MB file with no runtime fetches of its own (Scalar's standalone is
// three times the size and loads fonts from a CDN unless configured off).
// The page loads nothing but /docs/redoc.standalone.js and /openapi.json;
// its Content-Security-Policy allows only this origin, so no request can
// leave it. The bundle auto-starts on the <redoc spec-url> element: no
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

// DocsHandler serves GET /docs (the page), /docs/redoc.standalone.js and
// /docs/LICENSE (the bundle's licence and its third-party notices).
func DocsHandler() http.Handler {
	serve := func(name, contentType string, body func() ([]byte, error)) http.HandlerFunc {
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
	file := func(name string) func() ([]byte, error) {
		return func() ([]byte, error) { return redoc.ReadFile(name) }
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
	mux.Handle("GET /docs", serve("page", "text/html; charset=utf-8", func() ([]byte, error) { return []byte(docsPage), nil }))
	mux.Handle("GET /docs/redoc.standalone.js", serve("bundle", "text/javascript; charset=utf-8", file("redoc/redoc.standalone.js")))
	mux.Handle("GET /docs/LICENSE", serve("licence", "text/plain; charset=utf-8", license))
	return mux
}

package browser_test

import (
	"context"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"platform/internal/apitest"
)

// TestDocsPage opens GET /docs (API_DOCS on) in headless Chromium: Redoc,
// vendored and embedded, renders /openapi.json and shows an operation of
// issue 24; the page loaded nothing from another origin and the browser
// reported no Content-Security-Policy violation.
func TestDocsPage(t *testing.T) {
	t.Parallel()
	browserCtx := browser(t)
	env := apitest.NewWith(t, apitest.Options{APIDocs: true})

	ctx, cancel := context.WithTimeout(browserCtx, 90*time.Second)
	defer cancel()
	ctx, cancelTab := chromedp.NewContext(ctx)
	defer cancelTab()
	// Every CSP violation is kept in window.__csp, from before the page's scripts.
	const watch = `window.__csp = []; document.addEventListener('securitypolicyviolation',
		e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument,
		cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: watch}); err != nil {
		t.Fatalf("install the CSP watcher: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(env.Server.URL+"/docs")); err != nil {
		t.Fatalf("open /docs: %v", err)
	}
	// An operation of the document, rendered by Redoc (the sidebar and the body).
	const op = "Set or clear a lesson's homework deadlines"
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.innerText.includes("`+op+`")`,
		chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 2000)`))
		t.Fatalf("the operation %q never appeared: %v\npage text: %s", op, err, text)
	}
	resources, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[location.href, ...performance.getEntriesByType('resource').map(e => e.name)]`))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range resources {
		if !strings.HasPrefix(u, env.Server.URL+"/") && !strings.HasPrefix(u, "blob:"+env.Server.URL) && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page loaded %s, outside its origin", u)
		}
	}
	if !contains(resources, env.Server.URL+"/openapi.json") || !contains(resources, env.Server.URL+"/docs/redoc.standalone.js") {
		t.Errorf("resources %v: want /openapi.json and the bundle", resources)
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`))
	if err != nil {
		t.Fatal(err)
	}
	if len(violations) != 0 {
		t.Errorf("Content-Security-Policy violations: %v", violations)
	}
	t.Logf("rendered; resources: %v", resources)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

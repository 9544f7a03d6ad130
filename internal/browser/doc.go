// Package browser holds the real-browser test: headless Chromium runs a page
// from another origin against the real server, so CORS (preflights,
// credentials, exposed headers), multipart uploads and Range downloads are
// checked the way the SPA meets them, which Go's HTTP client cannot do (it
// ignores CORS). See browser_test.go; scripts/chromium.sh installs Chromium.
package browser

package apitest

import (
	"fmt"
	"io"
	"net/http"
)

// Try is Do for goroutines other than the test's own: it never fails the
// test (t.Fatal must not be called there) but returns the error, for the
// test goroutine to report. The body is encoded as Do encodes it.
func (e *Env) Try(method, path string, as User, body any) (*Response, error) {
	rd, err := encodeBody(body)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequest(method, e.Server.URL+path, rd)
	if err != nil {
		return nil, fmt.Errorf("apitest: build request: %w", err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if as.Token != "" {
		r.Header.Set("Authorization", "Bearer "+as.Token)
	}
	res, err := e.Server.Client().Do(r)
	if err != nil {
		return nil, fmt.Errorf("apitest: %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("apitest: %s %s: read response: %w", method, path, err)
	}
	return &Response{Code: res.StatusCode, Header: res.Header, Body: b, req: method + " " + path}, nil
}

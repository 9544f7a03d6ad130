package web

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"platform/internal/apperr"
)

// FuzzReadJSON: any body with any content type is read without a panic,
// and every failure is a 422 or the 413, never an error that would become
// a 500; a 422 never carries a Go parser message.
func FuzzReadJSON(f *testing.F) {
	for _, s := range []string{"", "{}", `{"a": "x"}`, `{"a": 1e400}`, "[1,2", `{"a":"\u0000"}`, "\xff",
		"\ufeff{}", `{"a": [[[[[[[[[[]]]]]]]]]]}`, `{"a" 1}`, `"x" y`, `{"iin": "123456789012", "n": "3"}`} {
		f.Add(s, "application/json")
	}
	f.Add("x", "text/plain")
	f.Add("{}", "application/vnd+json; charset")
	f.Fuzz(func(t *testing.T, body, ct string) {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		b, err := ReadJSON(r)
		if err != nil {
			checkClientError(t, err)
			return
		}
		o := b.Root().Object()
		o.Field("a").Str()
		o.Field("n").Int()
		o.Field("iin").IIN()
		if items, ok := o.Field("a").OptList(); ok {
			for _, it := range items {
				it.OptStr()
			}
		}
		if err := b.Err(); err != nil {
			checkClientError(t, err)
		}
	})
}

// FuzzCheckInput: any path parameter or query string passes the edge check
// or is a 422; what passes is valid UTF-8 without NUL.
func FuzzCheckInput(f *testing.F) {
	for _, s := range []string{"", "a=1", "a=%FF", "%00=1", "a=%zz&b", "+%2B", "a=%C3%A9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = q
		if err := CheckInput(r); err != nil {
			checkClientError(t, err)
			return
		}
		for _, pair := range strings.Split(q, "&") {
			k, v, _ := strings.Cut(pair, "=")
			for _, s := range []string{unescapeQuery(k), unescapeQuery(v)} {
				if _, ok := textIssue(nil, s); !ok {
					t.Fatalf("%q passed with %q", q, s)
				}
			}
		}
	})
}

func checkClientError(t *testing.T, err error) {
	t.Helper()
	var v *apperr.ValidationError
	if errors.As(err, &v) {
		for _, is := range v.Issues {
			if e, _ := is.Ctx["error"].(string); strings.Contains(e, "invalid character") || strings.Contains(is.Msg, "malformed") {
				t.Fatalf("parser message in a 422: %+v", is)
			}
		}
		return
	}
	if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal {
		return
	}
	t.Fatalf("not a client error: %v", err)
}

package web

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"platform/internal/apperr"
)

// NotUTF8Refused explains the 422 for text that is not valid UTF-8, which
// PostgreSQL (a UTF-8 database) refuses with SQLSTATE 22021: refused at the
// edge instead of failing in the database with a 500.
const NotUTF8Refused = "строка должна быть в кодировке UTF-8"

// formRefused is the fixed 422 explanation for a form body Go's parsers
// cannot read; their own messages ("malformed MIME header: missing colon")
// describe the parser, not the request, and are not shown.
const formRefused = "некорректные данные формы"

// textIssue is the value_error for s at loc when s is not text PostgreSQL
// can store (invalid UTF-8 or NUL); ok is true when s is fine.
func textIssue(loc []any, s string) (apperr.Issue, bool) {
	switch {
	case !utf8.ValidString(s):
		return apperr.ValueError(loc, s, NotUTF8Refused), false
	case strings.IndexByte(s, 0) >= 0:
		return apperr.ValueError(loc, s, NULRefused), false
	}
	return apperr.Issue{}, true
}

// CheckInput is the one edge check of path parameters and the query string
// (API.md §0.4): bytes that are not UTF-8, or NUL, are a 422 value_error at
// ["path", name] or ["query", name], whatever the endpoint does with them,
// so no such byte reaches SQL. Handle runs it after the route's guards,
// keeping the order 401 → 403 → 422.
func CheckInput(r *http.Request) error {
	var issues []apperr.Issue
	if rc := chi.RouteContext(r.Context()); rc != nil {
		for i, key := range rc.URLParams.Keys {
			if i >= len(rc.URLParams.Values) {
				break
			}
			if is, ok := textIssue([]any{"path", paramName(rc, key)}, rc.URLParams.Values[i]); !ok {
				issues = append(issues, is)
			}
		}
	}
	for _, pair := range strings.Split(r.URL.RawQuery, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key := unescapeQuery(k)
		if is, ok := textIssue([]any{"query", key}, key); !ok {
			issues = append(issues, is)
			continue
		}
		if is, ok := textIssue([]any{"query", key}, unescapeQuery(v)); !ok {
			issues = append(issues, is)
		}
	}
	if len(issues) > 0 {
		return apperr.Invalid(issues...)
	}
	return nil
}

// paramName is a path parameter's name as API.md spells it: chi calls a
// trailing wildcard "*"; it is {file_path} of /files/download and {name}
// of /static/photos.
func paramName(rc *chi.Context, key string) string {
	if key != "*" {
		return key
	}
	if strings.HasPrefix(rc.RoutePattern(), "/files/") {
		return "file_path"
	}
	return "name"
}

// unescapeQuery decodes one query component as Starlette does (a "+" is a
// space, a "%" that starts no valid escape stays literal), keeping the bytes
// as they are so CheckInput sees what the handler would.
func unescapeQuery(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// ReadForm parses an urlencoded or multipart form body (capped like JSON
// bodies, 413 beyond) into its fields; any other type yields no fields. A
// body the parsers cannot read is a 422 with a fixed message, and a field
// whose name or value is not UTF-8 or holds NUL is a 422 at ["body", name].
func ReadForm(r *http.Request) (map[string][]string, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, MaxJSONBody)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var form map[string][]string
	var err error
	switch mt {
	case "multipart/form-data":
		if err = r.ParseMultipartForm(MaxJSONBody); err == nil {
			form = r.MultipartForm.Value
			// Uploaded files are no form fields here; drop any temp files now.
			_ = r.MultipartForm.RemoveAll()
		}
	case "application/x-www-form-urlencoded":
		if err = r.ParseForm(); err == nil {
			form = r.PostForm
		}
	default:
		return map[string][]string{}, nil
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, apperr.TooLarge("Request Entity Too Large")
		}
		is := apperr.ValueError([]any{"body"}, nil, formRefused)
		return nil, &apperr.ValidationError{Issues: []apperr.Issue{is}}
	}
	var issues []apperr.Issue
	for name, values := range form {
		if is, ok := textIssue([]any{"body", name}, name); !ok {
			issues = append(issues, is)
			continue
		}
		for _, v := range values {
			if is, ok := textIssue([]any{"body", name}, v); !ok {
				issues = append(issues, is)
				break
			}
		}
	}
	if len(issues) > 0 {
		return nil, apperr.Invalid(issues...)
	}
	return form, nil
}

// CheckText is the 422 value_error at loc when s is not text PostgreSQL can
// store (invalid UTF-8 or NUL), or nil: for text read outside the JSON and
// form readers, such as an upload's file name (issue 21).
func CheckText(loc []any, s string) error {
	if is, ok := textIssue(loc, s); !ok {
		return apperr.Invalid(is)
	}
	return nil
}

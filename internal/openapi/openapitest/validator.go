// Package openapitest checks responses against the OpenAPI document of
// package openapi, for tests only: the validator library is large and the
// binary has no use for it.
//
// Library: github.com/pb33f/libopenapi with libopenapi-validator. The
// document is 3.1 and leans on 3.1-only JSON Schema: nullable fields are
// `type: [string, "null"]`, `const`, `prefixItems` (the 422 `loc`),
// `contentMediaType`, and `description` beside a response `$ref`.
// libopenapi is 3.1-native: its model is 3.1's, ValidateDocument checks the
// document against the OpenAPI 3.1 meta-schema, and bodies are always
// checked by a JSON Schema 2020-12 engine. kin-openapi (openapi3filter,
// v0.153) would also do: its 3.1 support arrived later, on a model shaped
// by 3.0 (nullable, exclusive* booleans) with the 3.1 keywords added and a
// 2020-12 validator switched on for 3.1 documents. The deciding points:
// one engine for the whole 3.1 dialect rather than two modes, a built-in
// meta-schema check of the document, and ValidateResponseBodyWithPathItem,
// which takes the path item from the caller, so this package does the one
// routing job no OpenAPI router does: the rest-of-path parameters of
// /files/download/* and /static/photos/* (x-chi-pattern), and the extra
// trailing slash every route answers (API.md §0.3). The cost: building a
// Validator validates the whole document (seconds on a loaded machine), so
// build one per test binary, not one per test.
package openapitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/responses"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"platform/internal/openapi"
)

// Validator checks responses against the document. It is safe for
// concurrent use by parallel tests: body checks are serialised, because
// libopenapi renders and compiles each schema lazily on first use without
// a lock of its own (a data race under -race otherwise).
type Validator struct {
	mu     sync.Mutex // guards bodies
	doc    libopenapi.Document
	bodies responses.ResponseBodyValidator
	routes []route
	// literal are the prefixes of the rest-of-path routes, whose paths are
	// file names and get no trailing-slash folding (API.md §0.3).
	literal []string
}

// route is one path item with the regular expression that matches its
// concrete paths.
type route struct {
	template string
	re       *regexp.Regexp
	params   int
	item     *v3.PathItem
}

var paramRE = regexp.MustCompile(`\{[^}/]+\}`)

// NewValidator parses the document, checks it against the OpenAPI 3.1
// meta-schema, and prepares the path matchers.
func NewValidator() (*Validator, error) {
	src, err := openapi.YAML()
	if err != nil {
		return nil, fmt.Errorf("openapi: read document: %w", err)
	}
	doc, err := libopenapi.NewDocument(src)
	if err != nil {
		return nil, fmt.Errorf("openapi: parse: %w", err)
	}
	if v := doc.GetSpecInfo().VersionNumeric; v < 3.1 {
		return nil, fmt.Errorf("openapi: document is version %v, want 3.1", v)
	}
	full, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi: build validator: %w", errors.Join(errs...))
	}
	if ok, verrs := full.ValidateDocument(); !ok {
		return nil, fmt.Errorf("openapi: document is not valid OpenAPI 3.1: %w", joinValidation(verrs))
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("openapi: build model: %w", err)
	}
	v := &Validator{doc: doc, bodies: responses.NewResponseBodyValidator(&model.Model, config.WithFormatAssertions())}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		expr := templateRegexp(path)
		if pattern, ok := item.Extensions.Get("x-chi-pattern"); ok {
			prefix, cut := strings.CutSuffix(pattern.Value, "*")
			if !cut {
				return nil, fmt.Errorf("openapi: %s: x-chi-pattern %q does not end in *", path, pattern.Value)
			}
			expr = "^" + regexp.QuoteMeta(prefix) + "(.*)$"
			v.literal = append(v.literal, prefix)
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", path, err)
		}
		v.routes = append(v.routes, route{template: path, re: re, params: strings.Count(path, "{"), item: item})
	}
	// Static segments win over parameters (/tests/create before
	// /tests/{test_id}), as in chi.
	slices.SortStableFunc(v.routes, func(a, b route) int { return a.params - b.params })
	return v, nil
}

// templateRegexp matches the concrete paths of an OpenAPI path template:
// each {param} is one non-empty segment.
func templateRegexp(template string) string {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, m := range paramRE.FindAllStringIndex(template, -1) {
		b.WriteString(regexp.QuoteMeta(template[last:m[0]]))
		b.WriteString("[^/]+")
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(template[last:]))
	b.WriteString("$")
	return b.String()
}

// ValidateResponse validates res (its Request must be set) and leaves its
// body readable again.
func (v *Validator) ValidateResponse(res *http.Response) error {
	if res.Request == nil {
		return errors.New("openapi: response has no request")
	}
	var body []byte
	if res.Body != nil {
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return fmt.Errorf("openapi: read body: %w", err)
		}
		body = b
		res.Body = io.NopCloser(bytes.NewReader(b))
	}
	return v.Validate(res.Request, res.StatusCode, res.Header, body)
}

// Validate checks one response to r against the document:
//   - the operation is found by method and path (one extra trailing slash
//     allowed, and none on the routes declared with one, API.md §0.3);
//   - the status is documented for it;
//   - the body matches that status's schema for the response Content-Type,
//     and documented headers match theirs.
//
// Answers outside the document's operations are checked against the
// router's own contract instead: an unknown path must be 404
// {"detail": string}, a known path with another method 405 with Allow and
// {"detail": string}, and a CORS preflight (OPTIONS with Origin and
// Access-Control-Request-Method, API.md §0.10) 200 or 400 text/plain.
func (v *Validator) Validate(r *http.Request, status int, header http.Header, body []byte) error {
	if r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != "" {
		if (status == http.StatusOK || status == http.StatusBadRequest) && strings.HasPrefix(header.Get("Content-Type"), "text/plain") {
			return nil
		}
		return fmt.Errorf("openapi: preflight %s answered %d %q, want 200 or 400 text/plain", r.URL.Path, status, header.Get("Content-Type"))
	}
	rt, known := v.find(r.Method, r.URL.Path)
	switch {
	case rt == nil && !known:
		if status != http.StatusNotFound {
			return fmt.Errorf("openapi: %s %s: no such path in the document, but the answer is %d (want 404)", r.Method, r.URL.Path, status)
		}
		return detailBody(r, status, body)
	case rt == nil:
		if status != http.StatusMethodNotAllowed {
			return fmt.Errorf("openapi: %s %s: the path has no %s operation, but the answer is %d (want 405)", r.Method, r.URL.Path, r.Method, status)
		}
		if header.Get("Allow") == "" {
			return fmt.Errorf("openapi: %s %s: 405 without an Allow header", r.Method, r.URL.Path)
		}
		return detailBody(r, status, body)
	}
	req := r.Clone(r.Context())
	req.Body = http.NoBody
	res := &http.Response{
		StatusCode: status,
		Header:     header.Clone(),
		Body:       io.NopCloser(bytes.NewReader(body)),
		Request:    req,
	}
	if res.Header == nil {
		res.Header = http.Header{}
	}
	v.mu.Lock()
	ok, verrs := v.bodies.ValidateResponseBodyWithPathItem(req, res, rt.item, rt.template)
	v.mu.Unlock()
	if !ok {
		return fmt.Errorf("openapi: %s %s (%s) → %d: %w", r.Method, r.URL.Path, rt.template, status, joinValidation(verrs))
	}
	return nil
}

// find returns the route whose path item has method for path; known
// reports whether some route matches the path at all.
func (v *Validator) find(method, path string) (rt *route, known bool) {
	candidates := []string{path}
	if !v.isLiteral(path) {
		if len(path) > 1 && strings.HasSuffix(path, "/") {
			candidates = append(candidates, strings.TrimSuffix(path, "/"))
		} else {
			candidates = append(candidates, path+"/")
		}
	}
	for _, p := range candidates {
		for i := range v.routes {
			if !v.routes[i].re.MatchString(p) {
				continue
			}
			known = true
			if v.routes[i].item.GetOperations().GetOrZero(strings.ToLower(method)) != nil {
				return &v.routes[i], true
			}
		}
	}
	return nil, known
}

func (v *Validator) isLiteral(path string) bool {
	for _, p := range v.literal {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// detailBody checks the router's own error bodies: {"detail": string}.
func detailBody(r *http.Request, status int, body []byte) error {
	if r.Method == http.MethodHead {
		return nil
	}
	var d struct {
		Detail *string `json:"detail"`
	}
	if err := json.Unmarshal(body, &d); err != nil || d.Detail == nil {
		return fmt.Errorf("openapi: %s %s → %d: body %q is not {\"detail\": string}", r.Method, r.URL.Path, status, body)
	}
	return nil
}

// joinValidation flattens the library's errors, schema failures included,
// into one error naming each failing location.
func joinValidation(verrs []*liberrors.ValidationError) error {
	var errs []error
	for _, e := range verrs {
		msg := e.Message
		if e.Reason != "" {
			msg += ": " + e.Reason
		}
		for _, s := range e.SchemaValidationErrors {
			loc := s.FieldPath
			if loc == "" {
				loc = s.KeywordLocation
			}
			msg += fmt.Sprintf("; %s: %s", loc, s.Reason)
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

// Operation is one method on one path of the document.
type Operation struct {
	Method string // upper case: GET, POST, …, HEAD
	Path   string // the OpenAPI template, e.g. /lessons/{lesson_id}
	// Pattern is the chi route pattern: Path, except that a rest-of-path
	// parameter (the path item's x-chi-pattern) is chi's "*".
	Pattern string
	ID      string // operationId
}

// methods are the operation keys of a path item, in this order.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

type rawPathItem map[string]json.RawMessage

// Operations lists the document's operations, by path, then method, for
// the route-parity test against chi.Walk. Note for that test: the three
// routes declared with a trailing slash (/admin/users/, /admin/groups/,
// /admin/modules/) appear once, with the slash; every route also answers
// with one extra trailing slash and the three without it (API.md §0.3),
// so compare patterns with one trailing slash removed.
func Operations() ([]Operation, error) {
	doc, err := openapi.JSON()
	if err != nil {
		return nil, err
	}
	var d struct {
		Paths map[string]rawPathItem `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("openapi: decode paths: %w", err)
	}
	var ops []Operation
	for path, item := range d.Paths {
		pattern := path
		if raw, ok := item["x-chi-pattern"]; ok {
			if err := json.Unmarshal(raw, &pattern); err != nil {
				return nil, fmt.Errorf("openapi: %s: x-chi-pattern: %w", path, err)
			}
		}
		for _, m := range methods {
			raw, ok := item[m]
			if !ok {
				continue
			}
			var op struct {
				ID string `json:"operationId"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapi: %s %s: %w", m, path, err)
			}
			ops = append(ops, Operation{Method: strings.ToUpper(m), Path: path, Pattern: pattern, ID: op.ID})
		}
	}
	slices.SortFunc(ops, func(a, b Operation) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return ops, nil
}

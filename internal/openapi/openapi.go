// Package openapi holds the machine-readable contract: a hand-written
// OpenAPI 3.1 document of the whole API (openapi.yaml, from API.md), served
// as JSON at GET /openapi.json when API_DOCS is on, and a Validator that
// checks real responses against it in tests.
//
// The document is hand-written because no generator can produce the
// FastAPI/Pydantic 422 shape (API.md §0.4) or the per-endpoint messages.
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
package openapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pb33f/go-yaml"
)

//go:embed openapi.yaml
var files embed.FS

// YAML returns the document as written (callers must not modify it).
func YAML() ([]byte, error) { return files.ReadFile("openapi.yaml") }

// documentJSON converts the embedded YAML once; the result depends only on
// the embedded file, so it is computed at most once per process.
var documentJSON = sync.OnceValues(func() ([]byte, error) {
	src, err := YAML()
	if err != nil {
		return nil, fmt.Errorf("openapi: read document: %w", err)
	}
	return toJSON(src)
})

// JSON returns the document converted to JSON, key order kept as written
// (the same bytes every call; callers must not modify them).
func JSON() ([]byte, error) { return documentJSON() }

// Handler serves the document as JSON (GET /openapi.json). The conversion
// happens here, so a broken document fails at start-up, not per request.
func Handler() (http.Handler, error) {
	body, err := JSON()
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	}), nil
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
	doc, err := JSON()
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

// toJSON converts YAML to JSON through the node tree, so mapping keys keep
// the document's order (a map round trip would sort them).
func toJSON(src []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("openapi: parse YAML: %w", err)
	}
	var buf bytes.Buffer
	if err := writeNode(&buf, &root); err != nil {
		return nil, fmt.Errorf("openapi: convert to JSON: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("openapi: convert to JSON: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeNode(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("line %d: expected one document", n.Line)
		}
		return writeNode(buf, n.Content[0])
	case yaml.AliasNode:
		return writeNode(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, k.Value); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := writeNode(buf, v); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeNode(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		if err := writeJSON(buf, v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
	default:
		return fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	}
	return nil
}

// writeJSON encodes one scalar without escaping <, > and & (the document's
// prose has `<jwt>`), and without the encoder's trailing newline.
func writeJSON(buf *bytes.Buffer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return nil
}

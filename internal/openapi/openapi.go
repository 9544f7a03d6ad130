// Package openapi holds the machine-readable contract: a hand-written
// OpenAPI 3.1 document of the whole API (openapi.yaml, from API.md), served
// as JSON at GET /openapi.json when API_DOCS is on. The validator that
// checks real responses against it lives in openapitest, so the binary
// does not link it.
//
// The document is hand-written because no generator can produce the
// FastAPI/Pydantic 422 shape (API.md §0.4) or the per-endpoint messages.
package openapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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

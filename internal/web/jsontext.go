package web

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// The functions here walk JSON text that json.Valid has accepted, token by
// token, without building values: a Body keeps its bytes, and a Value is a
// slice of them. Because the text is known valid, the walk needs no error
// handling.

// isSpace is JSON's whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// trimSpace drops JSON whitespace around a value.
func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// stringEnd is the index after the string that starts at b[i] ('"').
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd is the index after the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && !isSpace(b[i]) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
		i++
	}
	return i
}

// eachMember calls fn with each member's key (quoted, as written) and value
// of the object obj, in order.
func eachMember(obj []byte, fn func(key, val []byte)) {
	i := skipSpace(obj, 1)
	for i < len(obj) && obj[i] != '}' {
		ke := stringEnd(obj, i)
		key := obj[i:ke]
		i = skipSpace(obj, skipSpace(obj, ke)+1) // past ':'
		ve := valueEnd(obj, i)
		fn(key, obj[i:ve])
		i = skipSpace(obj, ve)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
}

// eachElem calls fn with each element of the list list, in order.
func eachElem(list []byte, fn func(val []byte)) {
	i := skipSpace(list, 1)
	for i < len(list) && list[i] != ']' {
		ve := valueEnd(list, i)
		fn(list[i:ve])
		i = skipSpace(list, ve)
		if i < len(list) && list[i] == ',' {
			i = skipSpace(list, i+1)
		}
	}
}

// plain reports whether the quoted string q decodes to its own inner bytes
// (no escape, no control character, valid UTF-8).
func plain(q []byte) bool {
	inner := q[1 : len(q)-1]
	for _, c := range inner {
		if c == '\\' || c < 0x20 {
			return false
		}
	}
	return utf8.Valid(inner)
}

// keyIs reports whether the quoted key decodes to name.
func keyIs(key []byte, name string) bool {
	if plain(key) {
		return string(key[1:len(key)-1]) == name
	}
	return decodeString(key) == name
}

// decodeString decodes a quoted JSON string as encoding/json does
// (invalid UTF-8 becomes U+FFFD).
func decodeString(q []byte) string {
	if plain(q) {
		return string(q[1 : len(q)-1])
	}
	var s string
	_ = json.Unmarshal(q, &s)
	return s
}

// decode is a value as the 422 input reports it: nil, bool, string,
// json.Number, or a rawJSON object or list.
func decode(v []byte) any {
	if len(v) == 0 {
		return nil
	}
	switch v[0] {
	case 'n':
		return nil
	case 't':
		return true
	case 'f':
		return false
	case '"':
		return decodeString(v)
	case '{', '[':
		return rawJSON(v)
	}
	return json.Number(v)
}

// rawJSON is an object or list kept as its text. It encodes exactly as the
// tree encoding/json would decode it into (map[string]any, []any with
// json.Number): keys sorted, a repeated key's last value, strings
// re-escaped. Only a 422 that echoes it pays for the re-encoding, and that
// holds one object's keys at a time, never the tree.
type rawJSON []byte

// MarshalJSON implements json.Marshaler.
func (r rawJSON) MarshalJSON() ([]byte, error) {
	return appendCanonical(make([]byte, 0, len(r)), r), nil
}

func appendCanonical(out, v []byte) []byte {
	switch v[0] {
	case '{':
		type member struct {
			key string
			val []byte
		}
		var ms []member
		eachMember(v, func(key, val []byte) { ms = append(ms, member{decodeString(key), val}) })
		slices.SortStableFunc(ms, func(a, b member) int { return strings.Compare(a.key, b.key) })
		out = append(out, '{')
		first := true
		for i, m := range ms {
			if i+1 < len(ms) && ms[i+1].key == m.key {
				continue // a repeated key: the last one wins
			}
			if !first {
				out = append(out, ',')
			}
			first = false
			out = appendString(out, m.key)
			out = append(out, ':')
			out = appendCanonical(out, m.val)
		}
		return append(out, '}')
	case '[':
		out = append(out, '[')
		first := true
		eachElem(v, func(val []byte) {
			if !first {
				out = append(out, ',')
			}
			first = false
			out = appendCanonical(out, val)
		})
		return append(out, ']')
	case '"':
		if plain(v) && !bytes.ContainsAny(v[1:len(v)-1], "\"\u2028\u2029") {
			return append(out, v...)
		}
		return appendString(out, decodeString(v))
	}
	return append(out, v...) // a number or a literal, as written
}

// appendString appends s encoded as encoding/json encodes a string for a
// response (HTML characters unescaped, as web.JSON writes them).
func appendString(out []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return append(out, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

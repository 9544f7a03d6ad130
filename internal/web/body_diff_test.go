package web

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"platform/internal/web/internal/treebody"
)

// The token-level reader must answer every body exactly as the tree reader
// it replaced (issue 21): same error, same 422 bytes, same values read.

// readNew and readOld run the same reads a handler would and return the
// outcome as the bytes a client would see, plus the values read.
func readNew(body, ct string) string {
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", ct)
	b, err := ReadJSON(r)
	if err != nil {
		return outcome(err, nil)
	}
	var got []any
	root := b.Root()
	if items, ok := root.OptList(); ok {
		for _, it := range items {
			n, _ := it.OptInt()
			got = append(got, n)
		}
	}
	o := root.Object()
	s, _ := o.Field("a").Str()
	n, _ := o.Field("n").Int()
	iin, _ := o.Field("iin").IIN()
	got = append(got, s, n, iin, o.Has("x"), o.Field("x").Null())
	if items, ok := o.Field("l").List(); ok {
		for _, it := range items {
			p, _ := it.OptStr()
			got = append(got, p)
			it.Object().Field("k").Str()
		}
	}
	o.Field("o").Object().Field("deep").Int()
	o.Field("r").Fail("custom", "m", nil)
	return outcome(b.Err(), got)
}

func readOld(body, ct string) string {
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", ct)
	b, err := treebody.ReadJSON(r)
	if err != nil {
		return outcome(err, nil)
	}
	var got []any
	root := b.Root()
	if items, ok := root.OptList(); ok {
		for _, it := range items {
			n, _ := it.OptInt()
			got = append(got, n)
		}
	}
	o := root.Object()
	s, _ := o.Field("a").Str()
	n, _ := o.Field("n").Int()
	iin, _ := o.Field("iin").IIN()
	got = append(got, s, n, iin, o.Has("x"), o.Field("x").Null())
	if items, ok := o.Field("l").List(); ok {
		for _, it := range items {
			p, _ := it.OptStr()
			got = append(got, p)
			it.Object().Field("k").Str()
		}
	}
	o.Field("o").Object().Field("deep").Int()
	o.Field("r").Fail("custom", "m", nil)
	return outcome(b.Err(), got)
}

func outcome(err error, got []any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{"err": errText(err), "got": got})
	html, _ := json.Marshal(map[string]any{"err": errText(err)})
	return buf.String() + string(html)
}

func errText(err error) any {
	if err == nil {
		return nil
	}
	if v, ok := err.(interface{ Error() string }); ok {
		if b, jerr := json.Marshal(err); jerr == nil && string(b) != "{}" {
			return json.RawMessage(b)
		}
		return v.Error()
	}
	return nil
}

var diffSeeds = []string{
	"", " ", "{}", "[]", "null", "1", `"x"`, "\ufeff{}", " \n{} \t", "{} x", "1 2", "[1,2", `{"a" 1}`, `{"a":`,
	`{"a": "x", "a": "y"}`, `{"a": "\u00e9\n<&>\u2028", "n": "3"}`, `{"a": 5, "n": 1e30}`, `{"n": 3.0}`,
	`{"iin": "123456789012"}`, `{"iin": "12345678901x"}`, `{"l": [1, "a", null, {"k": 2}, [], {}]}`,
	`{"l": {"b": 1, "a": [1, {"z": "\ud800", "y": "<b>"}]}}`, `{"o": {"deep": "x", "deep": "7"}}`,
	`{"o": 1, "r": {"z": 1, "a": {"q": [true, false, null, -0, 1E+2]}}}`, "{\"a\": \"\xff\xfe\"}",
	`[1, "2", 3.5, null, "x"]`, `[{}, {"a": 1}]`, `{"x": null}`, `{"\u0061": "key escaped", "b\"c": 1}`,
	`{"a": "nul\u0000"}`, `"\ufeff"`, "{\"a\":\"ctl\x01\"}", `{"r": "\u001f\u007f\u0080"}`, `{"r": [], "a": []}`,
	`{ "a" : "spaced" , "n" : " 12 " }`, `{"r": {"": 1, "a": {"": {}}}}`,
}

func TestReadJSONMatchesTreeReader(t *testing.T) {
	for _, ct := range []string{"application/json", "text/plain", ""} {
		for _, body := range diffSeeds {
			if got, want := readNew(body, ct), readOld(body, ct); got != want {
				t.Errorf("%q (%s):\n got %s\nwant %s", body, ct, got, want)
			}
		}
	}
}

func FuzzReadJSONMatchesTreeReader(f *testing.F) {
	for _, s := range diffSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if got, want := readNew(body, "application/json"), readOld(body, "application/json"); got != want {
			t.Fatalf("%q:\n got %s\nwant %s", body, got, want)
		}
	})
}

package web_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"platform/internal/apperr"
	"platform/internal/web"
)

func read(t *testing.T, ct, body string) (*web.Body, error) {
	t.Helper()
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	return web.ReadJSON(r)
}

func issues(t *testing.T, err error) []apperr.Issue {
	t.Helper()
	verr, ok := err.(*apperr.ValidationError)
	if !ok {
		t.Fatalf("want a validation error, got %v", err)
	}
	return verr.Issues
}

// Integer fields follow Pydantic's lax mode (API.md §0.4).
func TestIntCoercion(t *testing.T) {
	cases := []struct {
		json    string
		want    int32
		errType string
	}{
		{`3`, 3, ""},
		{`3.0`, 3, ""},
		{`"3"`, 3, ""},
		{`" -12 "`, -12, ""},
		{`3.5`, 0, "int_from_float"},
		{`"3.5"`, 0, "int_parsing"},
		{`"abc"`, 0, "int_parsing"},
		{`true`, 0, "int_type"},
		{`null`, 0, "int_type"},
		{`[1]`, 0, "int_type"},
		{`2147483647`, 2147483647, ""},
		{`2147483648`, 0, "less_than_equal"},
		{`-2147483649`, 0, "greater_than_equal"},
		{`1e30`, 0, "less_than_equal"},
	}
	for _, c := range cases {
		b, err := read(t, "application/json", `{"n": `+c.json+`}`)
		if err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		n, _ := b.Root().Object().Field("n").Int()
		err = b.Err()
		if c.errType == "" {
			if err != nil || n != c.want {
				t.Errorf("%s → %d, %v; want %d", c.json, n, err, c.want)
			}
			continue
		}
		is := issues(t, err)
		if len(is) != 1 || is[0].Type != c.errType {
			t.Errorf("%s → %+v; want %s", c.json, is, c.errType)
		}
	}
}

func TestStringsAndMissing(t *testing.T) {
	b, err := read(t, "", `{"iin": 123456789012, "extra": 1}`)
	if err != nil {
		t.Fatal(err)
	}
	o := b.Root().Object()
	o.Field("iin").IIN()
	o.Field("password").Str()
	is := issues(t, b.Err())
	if len(is) != 2 || is[0].Type != "string_type" || is[1].Type != "missing" {
		t.Fatalf("issues: %+v", is)
	}
	if m, _ := json.Marshal(is[1].Input); string(m) != `{"extra":1,"iin":123456789012}` {
		t.Errorf("missing input should be the enclosing object, got %s", m)
	}
	raw, _ := json.Marshal(is[0])
	if string(raw) != `{"type":"string_type","loc":["body","iin"],"msg":"Input should be a valid string","input":123456789012}` {
		t.Errorf("issue JSON: %s", raw)
	}
}

func TestIINPattern(t *testing.T) {
	for in, ok := range map[string]bool{
		`"123456789012"`: true, `"12345678901"`: false, `"12345678901a"`: false,
		`"١٢٣٤٥٦٧٨٩٠١٢"`: false, // Arabic-Indic digits: ASCII only (API.md §0.4)
	} {
		b, _ := read(t, "", `{"iin": `+in+`}`)
		b.Root().Object().Field("iin").IIN()
		if (b.Err() == nil) != ok {
			t.Errorf("%s: accepted=%v", in, b.Err() == nil)
		}
	}
	b, _ := read(t, "", `{"iin": "1"}`)
	b.Root().Object().Field("iin").IIN()
	is := issues(t, b.Err())
	if is[0].Msg != `String should match pattern '^\d{12}$'` || is[0].Ctx["pattern"] != `^\d{12}$` {
		t.Errorf("pattern issue: %+v", is[0])
	}
}

func TestBodyShapes(t *testing.T) {
	// Absent body: one "missing" at ["body"] with input null.
	b, err := read(t, "application/json", "")
	if err != nil {
		t.Fatal(err)
	}
	b.Root().Object().Field("x").Str()
	is := issues(t, b.Err())
	if len(is) != 1 || is[0].Type != "missing" || len(is[0].Loc) != 1 || is[0].Input != nil {
		t.Errorf("absent body: %+v", is)
	}
	// A list where an object is expected.
	b, _ = read(t, "application/json", `[1,2]`)
	b.Root().Object()
	if is := issues(t, b.Err()); is[0].Type != "model_attributes_type" {
		t.Errorf("list body: %+v", is)
	}
	// Another content type: the body is not an object.
	b, _ = read(t, "text/plain", `{"a":1}`)
	b.Root().Object()
	if is := issues(t, b.Err()); is[0].Type != "model_attributes_type" {
		t.Errorf("text/plain body: %+v", is)
	}
	// application/*+json is JSON.
	b, _ = read(t, "application/merge-patch+json", `{"a":"x"}`)
	if s, ok := b.Root().Object().Field("a").Str(); !ok || s != "x" {
		t.Errorf("+json body not parsed")
	}
	// Nested list locations carry integer indexes.
	b, _ = read(t, "", `{"qs": [{"o": []}, {"o": 5}]}`)
	items, _ := b.Root().Object().Field("qs").List()
	for _, it := range items {
		it.Object().Field("o").List()
	}
	is = issues(t, b.Err())
	if len(is) != 1 || is[0].Type != "list_type" || is[0].Loc[2] != 1 {
		t.Errorf("nested: %+v", is)
	}
}

func TestMalformedJSON(t *testing.T) {
	for _, body := range []string{`{"a": `, `{"a" 1}`, `{"a": 1} x`, `{'a': 1}`} {
		_, err := read(t, "application/json", body)
		is := issues(t, err)
		if len(is) != 1 || is[0].Type != "json_invalid" || is[0].Msg != "JSON decode error" || is[0].Loc[0] != "body" {
			t.Errorf("%s: %+v", body, is)
		}
		if _, ok := is[0].Loc[1].(int); !ok {
			t.Errorf("%s: position %#v", body, is[0].Loc[1])
		}
	}
}

func TestTooLarge(t *testing.T) {
	_, err := read(t, "application/json", `{"a":"`+strings.Repeat("x", web.MaxJSONBody)+`"}`)
	if !apperr.Is(err, apperr.KindTooLarge) {
		t.Errorf("oversized body: %v", err)
	}
}

func TestParseInt32(t *testing.T) {
	for in, want := range map[string][2]int64{
		"12": {12, 1}, "-3": {-3, 1}, "99999999999": {0, 1}, "1.5": {0, 0}, "abc": {0, 0}, "": {0, 0},
	} {
		id, ok := web.ParseInt32(in)
		if int64(id) != want[0] || ok != (want[1] == 1) {
			t.Errorf("ParseInt32(%q) = %d, %v", in, id, ok)
		}
	}
}

// json_invalid carries the character position Python's json module reports
// (FastAPI puts e.pos in loc), also for data after the value and for a body
// of only whitespace, which FastAPI parses (only an empty body is "absent").
func TestMalformedJSONPosition(t *testing.T) {
	cases := []struct {
		body string
		pos  int
		msg  string // "" when any message will do
	}{
		{`{"a": `, 6, ""},
		{`{"a" 1}`, 5, ""},
		{`{"é": x}`, 6, ""},
		{`{"a": 1} x`, 9, "Extra data"},
		{`{"a": 1}}`, 8, "Extra data"},
		{"{\"é\": 1}  \n é", 12, "Extra data"},
		{"  ", 2, ""},
	}
	for _, c := range cases {
		_, err := read(t, "application/json", c.body)
		is := issues(t, err)
		if len(is) != 1 || is[0].Type != "json_invalid" || is[0].Loc[1] != c.pos {
			t.Errorf("%q: %+v, want position %d", c.body, is, c.pos)
			continue
		}
		if c.msg != "" && is[0].Ctx["error"] != c.msg {
			t.Errorf("%q: ctx %v, want error %q", c.body, is[0].Ctx, c.msg)
		}
	}
}

// As Starlette's request.json(): a UTF-8 byte order mark is skipped, and a
// JSON media type with a malformed parameter is still JSON (Python's email
// parser keeps the type).
func TestJSONLeniency(t *testing.T) {
	b, err := read(t, "application/json", "\ufeff"+`{"a": "x"}`)
	if err != nil {
		t.Fatalf("BOM: %v", err)
	}
	if s, ok := b.Root().Object().Field("a").Str(); !ok || s != "x" {
		t.Errorf("BOM: %q %v", s, b.Err())
	}
	_, err = read(t, "application/json", "\ufeff"+`{"a": x}`)
	if is := issues(t, err); is[0].Loc[1] != 6 {
		t.Errorf("BOM position: %+v", is)
	}
	b, err = read(t, "application/json; charset", `{"a": "x"}`)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := b.Root().Object().Field("a").Str(); !ok || s != "x" {
		t.Errorf("malformed parameter: %q %v", s, b.Err())
	}
}

// PostgreSQL text cannot hold NUL: every string field refuses it with a 422
// instead of a 500 from the database.
func TestStringWithNUL(t *testing.T) {
	b, _ := read(t, "", `{"name": "a\u0000b", "opt": "x\u0000"}`)
	o := b.Root().Object()
	o.Field("name").Str()
	o.Field("opt").OptStr()
	is := issues(t, b.Err())
	if len(is) != 2 || is[0].Type != "value_error" || is[0].Msg != "Value error, "+web.NULRefused || is[1].Loc[1] != "opt" {
		t.Errorf("issues: %+v", is)
	}
}

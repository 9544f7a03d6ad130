package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"platform/internal/apperr"
)

// MaxJSONBody caps JSON request bodies (API.md §0.2).
const MaxJSONBody = 2 << 20

// MaxAuthBody caps the bodies of the anonymous auth routes (/auth/login,
// /auth/refresh): their fields fit in a few hundred bytes, so an anonymous
// client cannot make the server hold megabytes (413 beyond).
const MaxAuthBody = 8 << 10

// Body is a JSON request body read the way FastAPI/Pydantic reads it (lax
// coercions, every problem collected as an apperr.Issue). Handlers read
// fields through Value and call Err once at the end:
//
//	b, err := web.ReadJSON(r)
//	if err != nil { return err }
//	o := b.Root().Object()
//	iin, _ := o.Field("iin").IIN()
//	if err := b.Err(); err != nil { return err }
//
// The body is validated once and kept as its bytes; a Value is a slice of
// them, and a field is found by scanning its object's tokens, so nothing is
// materialised beyond what the handler reads: an array of a million objects
// costs its bytes, not a tree of boxed values (issue 21). An issue's input
// that is an object or a list is re-encoded from the bytes when the 422 is
// written, exactly as the decoded tree was.
type Body struct {
	root   []byte // the body's JSON text, trimmed
	text   []byte // a body of another type: its text, read as one string
	isText bool
	absent bool
	issues []apperr.Issue
}

// ReadJSON reads and parses the request body (capped at MaxJSONBody). It
// returns an error only for an oversized, unreadable or malformed body;
// every other problem is collected while the fields are read.
func ReadJSON(r *http.Request) (*Body, error) { return ReadJSONMax(r, MaxJSONBody) }

// ReadJSONMax is ReadJSON with the route's own cap (413 beyond it).
func ReadJSONMax(r *http.Request, limit int64) (*Body, error) {
	var s slot
	defer s.release()
	raw, err := readBody(r, limit, &s)
	if err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		// Only an empty body is absent: FastAPI parses any other, so a body of
		// whitespace is malformed JSON.
		return &Body{absent: true}, nil
	}
	if !isJSONType(r.Header.Get("Content-Type")) {
		// FastAPI does not parse other types; the body then fails as "not an
		// object", with its text as the input.
		return &Body{text: raw, isText: true}, nil
	}
	// Python's json.loads(bytes) skips a UTF-8 byte order mark.
	raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
	if !json.Valid(raw) {
		return nil, syntaxError(raw)
	}
	return &Body{root: trimSpace(raw)}, nil
}

// syntaxError is the json_invalid 422 of a body json.Valid refused, found
// by decoding it into a struct{} (which keeps nothing) so offsets and
// messages are those of the decoder FastAPI's shape was matched against.
func syntaxError(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var skip struct{}
	err := dec.Decode(&skip)
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		err = nil
	}
	if err == nil {
		// Python's json reports "Extra data" where the next value starts;
		// the tree reader this one replaced took a next token first, so its
		// offset is after that token when it is a whole value ("1 2" → 3).
		_, _ = dec.Token()
		end := dec.InputOffset()
		end += int64(len(raw[end:]) - len(bytes.TrimLeft(raw[end:], " \t\r\n")))
		return invalidAt(raw, end, "Extra data")
	}
	return jsonInvalid(raw, err)
}

// smallBody is the size up to which a body is read without a parse slot.
const smallBody = 64 << 10

// parseSlots bounds how many bodies larger than smallBody are read and
// validated at once; parseWait is how long a request waits for a slot
// before it is shed with a 503.
var (
	parseSlots = make(chan struct{}, 8)
	parseWait  = 5 * time.Second
)

// readBody reads the body up to limit (413 beyond). The first smallBody
// bytes are read freely; a larger body takes one of parseSlots (held in s)
// for the rest of its read and its validation. A body that cannot be read
// (a malformed chunked encoding) is a 400, not a 500.
func readBody(r *http.Request, limit int64, s *slot) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, apperr.TooLarge("Request Entity Too Large")
	}
	body := http.MaxBytesReader(nil, r.Body, limit)
	size := int64(512)
	if r.ContentLength > 0 {
		size = r.ContentLength
	}
	// One byte more than expected, so the EOF is seen without growing.
	buf := make([]byte, 0, min(size, smallBody)+1)
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= smallBody {
				if err := s.take(r); err != nil {
					return nil, err
				}
			}
			grow := max(int64(cap(buf)), r.ContentLength+1-int64(len(buf)))
			buf = slices.Grow(buf, int(min(grow, limit+1-int64(len(buf)))))
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, bodyError(r, err)
		}
	}
}

// slot is one request's hold on parseSlots.
type slot struct{ held bool }

// take takes a parse slot once, waiting at most parseWait (then 503 +
// Retry-After).
func (s *slot) take(r *http.Request) error {
	if s.held {
		return nil
	}
	t := time.NewTimer(parseWait)
	defer t.Stop()
	select {
	case parseSlots <- struct{}{}:
		s.held = true
		return nil
	case <-r.Context().Done():
		return r.Context().Err()
	case <-t.C:
		return apperr.Overloaded(errors.New("web: every body parse slot busy")).WithReason("body")
	}
}

func (s *slot) release() {
	if s.held {
		<-parseSlots
		s.held = false
	}
}

// ErrBodyUnreadable is the 400 detail of a body whose transfer encoding is
// broken (Starlette's wording for a body it cannot parse).
const ErrBodyUnreadable = "There was an error parsing the body"

// bodyError classifies a failed body read: over the cap is 413, a deadline
// or an already classified error stays as it is, a client that left stays
// a cancellation, and anything else (a malformed chunk) is a 400.
func bodyError(r *http.Request, err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apperr.TooLarge("Request Entity Too Large")
	}
	if _, ok := apperr.As(err); ok {
		return err
	}
	if ctxErr := r.Context().Err(); ctxErr != nil {
		return fmt.Errorf("web: read body: %w", ctxErr)
	}
	return &apperr.Error{Kind: apperr.KindBadRequest, Detail: ErrBodyUnreadable, Err: err}
}

func isJSONType(ct string) bool {
	if ct == "" {
		return true
	}
	// A malformed parameter still leaves the type, as with Python's email parser.
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

func jsonInvalid(raw []byte, err error) error {
	offset := int64(len(raw))
	var syn *json.SyntaxError
	if errors.As(err, &syn) && syn.Offset > 0 {
		offset = syn.Offset - 1
	}
	if offset > int64(len(raw)) {
		offset = int64(len(raw))
	}
	msg := "Expecting value"
	if syn != nil {
		msg = pythonJSONError(syn.Error())
	}
	return invalidAt(raw, offset, msg)
}

// pythonJSONError names a syntax error in the words of Python's json module
// (FastAPI's ctx.error) instead of Go's parser message, which describes the
// parser and is not shown to clients.
func pythonJSONError(goMsg string) string {
	switch {
	case strings.Contains(goMsg, "beginning of object key"):
		return "Expecting property name enclosed in double quotes"
	case strings.Contains(goMsg, "after object key:value pair"), strings.Contains(goMsg, "after array element"):
		return "Expecting ',' delimiter"
	case strings.Contains(goMsg, "after object key"):
		return "Expecting ':' delimiter"
	case strings.Contains(goMsg, "in string escape code"):
		return "Invalid \\escape"
	case strings.Contains(goMsg, "in string literal"):
		return "Invalid control character"
	}
	return "Expecting value"
}

// invalidAt is the json_invalid issue for the byte offset; Python's json (and
// so FastAPI) reports a character position, not a byte offset.
func invalidAt(raw []byte, offset int64, msg string) error {
	pos := utf8.RuneCount(raw[:offset])
	return apperr.Invalid(apperr.Issue{
		Type: "json_invalid", Loc: []any{"body", pos}, Msg: "JSON decode error",
		Input: map[string]any{}, Ctx: map[string]any{"error": msg},
	})
}

// Err returns the collected problems as a 422, or nil.
func (b *Body) Err() error {
	if len(b.issues) == 0 {
		return nil
	}
	return apperr.Invalid(b.issues...)
}

// Add records a problem found by the handler's own checks (e.g. a cross-field rule).
func (b *Body) Add(is apperr.Issue) { b.issues = append(b.issues, is) }

// Root is the whole body, located at ["body"].
func (b *Body) Root() Value {
	return Value{b: b, loc: []any{"body"}, raw: b.root, present: !b.absent, text: b.isText}
}

// Value is one JSON value with its location, read with Pydantic's lax rules.
// A failed read records an issue and returns ok=false.
type Value struct {
	b       *Body
	loc     []any
	raw     []byte // the value's JSON text; nil for the null of a failed Object
	present bool
	parent  []byte // the enclosing object or list, reported as the input of "missing"
	text    bool   // the root of a body that is not JSON: a string, Body.text
}

// Null reports whether the value is absent or JSON null.
func (v Value) Null() bool { return !v.text && (!v.present || len(v.raw) == 0 || v.raw[0] == 'n') }

// Loc is the value's location.
func (v Value) Loc() []any { return v.loc }

// Raw is the decoded JSON value as the 422 input reports it: nil, bool,
// string, json.Number, or an object or list that encodes as the decoded
// tree would (see Body).
func (v Value) Raw() any {
	if v.text {
		return string(v.b.text)
	}
	return decode(v.raw)
}

// IsObject reports whether the value is a JSON object.
func (v Value) IsObject() bool { return v.present && len(v.raw) > 0 && v.raw[0] == '{' }

// required records "missing" and returns false when the value is absent.
func (v Value) required() bool {
	if v.present {
		return true
	}
	v.b.issues = append(v.b.issues, apperr.Missing(v.loc, decode(v.parent)))
	return false
}

// Fail records an issue of the given type at this value.
func (v Value) Fail(typ, msg string, ctx map[string]any) {
	v.b.issues = append(v.b.issues, apperr.Issue{Type: typ, Loc: v.loc, Msg: msg, Input: v.Raw(), Ctx: ctx})
}

// Object is the value as an object (required).
func (v Value) Object() Object {
	if !v.required() {
		return Object{}
	}
	if !v.IsObject() {
		v.Fail("model_attributes_type", "Input should be a valid dictionary or object to extract fields from", nil)
		return Object{}
	}
	return Object{b: v.b, loc: v.loc, raw: v.raw, ok: true}
}

// List is the value as a list (required).
func (v Value) List() ([]Value, bool) {
	if !v.required() {
		return nil, false
	}
	return v.list()
}

// OptList is the value as a list, or (nil, true) when absent or null.
func (v Value) OptList() ([]Value, bool) {
	if v.Null() {
		return nil, true
	}
	return v.list()
}

func (v Value) list() ([]Value, bool) {
	if len(v.raw) == 0 || v.raw[0] != '[' {
		v.Fail("list_type", "Input should be a valid list", nil)
		return nil, false
	}
	var out []Value
	eachElem(v.raw, func(it []byte) {
		out = append(out, Value{b: v.b, loc: appendLoc(v.loc, len(out)), raw: it, present: true, parent: v.raw})
	})
	if out == nil {
		out = []Value{}
	}
	return out, true
}

// NULRefused explains the 422 for text holding NUL, which PostgreSQL text
// cannot store: refused up front instead of failing in the database (500).
const NULRefused = "строка не должна содержать символ NUL"

// Str is the value as a required string (only JSON strings are accepted;
// NUL is refused with value_error, see NULRefused).
func (v Value) Str() (string, bool) {
	if !v.required() {
		return "", false
	}
	s, ok := v.Raw().(string)
	if !ok {
		v.Fail("string_type", "Input should be a valid string", nil)
		return "", false
	}
	if strings.ContainsRune(s, 0) {
		v.Fail("value_error", "Value error, "+NULRefused, map[string]any{"error": NULRefused})
		return "", false
	}
	return s, true
}

// OptStr is the value as an optional string: nil when absent or null.
func (v Value) OptStr() (*string, bool) {
	if v.Null() {
		return nil, true
	}
	s, ok := v.Str()
	if !ok {
		return nil, false
	}
	return &s, true
}

// Int is the value as a required 32-bit integer (JSON integers, numbers with
// a zero fraction and decimal strings are accepted, as Pydantic's lax mode).
func (v Value) Int() (int32, bool) {
	if !v.required() {
		return 0, false
	}
	return v.toInt()
}

// OptInt is the value as an optional integer: nil when absent or null.
func (v Value) OptInt() (*int32, bool) {
	if v.Null() {
		return nil, true
	}
	n, ok := v.toInt()
	if !ok {
		return nil, false
	}
	return &n, true
}

var decimalString = regexp.MustCompile(`^[+-]?[0-9]+$`)

func (v Value) toInt() (int32, bool) {
	var f *big.Float
	switch x := v.Raw().(type) {
	case json.Number:
		bf, _, err := big.ParseFloat(string(x), 10, 256, big.ToNearestEven)
		if err != nil {
			v.Fail("int_type", "Input should be a valid integer", nil)
			return 0, false
		}
		if !bf.IsInt() {
			v.Fail("int_from_float", "Input should be a valid integer, got a number with a fractional part", nil)
			return 0, false
		}
		f = bf
	case string:
		s := strings.TrimSpace(x)
		if !decimalString.MatchString(s) {
			v.Fail("int_parsing", "Input should be a valid integer, unable to parse string as an integer", nil)
			return 0, false
		}
		f, _, _ = big.ParseFloat(s, 10, 256, big.ToNearestEven)
	default:
		v.Fail("int_type", "Input should be a valid integer", nil)
		return 0, false
	}
	if f.Cmp(big.NewFloat(math.MinInt32)) < 0 {
		v.Fail("greater_than_equal", "Input should be greater than or equal to -2147483648", map[string]any{"ge": math.MinInt32})
		return 0, false
	}
	if f.Cmp(big.NewFloat(math.MaxInt32)) > 0 {
		v.Fail("less_than_equal", "Input should be less than or equal to 2147483647", map[string]any{"le": math.MaxInt32})
		return 0, false
	}
	n, _ := f.Int64()
	return int32(n), true
}

// iinPattern is the IIN rule as the 422 reports it; iinRe enforces it with
// ASCII digits only (API.md §0.4).
const iinPattern = `^\d{12}$`

var iinRe = regexp.MustCompile(`^[0-9]{12}$`)

// IsIIN reports whether s is 12 ASCII digits.
func IsIIN(s string) bool { return iinRe.MatchString(s) }

// IIN reads a required string that must be an IIN.
func (v Value) IIN() (string, bool) {
	s, ok := v.Str()
	if !ok {
		return "", false
	}
	if !IsIIN(s) {
		v.Fail("string_pattern_mismatch", "String should match pattern '"+iinPattern+"'", map[string]any{"pattern": iinPattern})
		return "", false
	}
	return s, true
}

// MinLen records string_too_short when s has fewer than n characters.
func (v Value) MinLen(s string, n int) bool {
	if utf8.RuneCountInString(s) < n {
		v.Fail("string_too_short", fmt.Sprintf("String should have at least %d %s", n, characters(n)), map[string]any{"min_length": n})
		return false
	}
	return true
}

// MaxLen records string_too_long when s has more than n characters.
func (v Value) MaxLen(s string, n int) bool {
	if utf8.RuneCountInString(s) > n {
		v.Fail("string_too_long", fmt.Sprintf("String should have at most %d %s", n, characters(n)), map[string]any{"max_length": n})
		return false
	}
	return true
}

// TrimmedStr reads a required string, trimmed, of minLen to maxLen
// characters (a blank one is too short).
func (v Value) TrimmedStr(minLen, maxLen int) string {
	s, ok := v.Str()
	if !ok {
		return ""
	}
	s = strings.TrimSpace(s)
	if v.MinLen(s, minLen) {
		v.MaxLen(s, maxLen)
	}
	return s
}

// StrMax reads a required string of at most n characters.
func (v Value) StrMax(n int) string {
	s, ok := v.Str()
	if ok {
		v.MaxLen(s, n)
	}
	return s
}

// OptStrMax reads an optional string of at most n characters.
func (v Value) OptStrMax(n int) *string {
	s, ok := v.OptStr()
	if ok && s != nil {
		v.MaxLen(*s, n)
	}
	return s
}

// NullIfEmpty is nil for an empty string (stored as NULL), else &s.
func NullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// characters is Pydantic's wording: "1 character", "6 characters".
func characters(n int) string {
	if n == 1 {
		return "character"
	}
	return "characters"
}

// Object is a JSON object being read; reads on a failed Object are no-ops
// that return zero values, so one problem is reported once.
type Object struct {
	b   *Body
	loc []any
	raw []byte
	ok  bool
}

// OK reports whether the value was an object.
func (o Object) OK() bool { return o.ok }

// Has reports whether the key is present (even with null).
func (o Object) Has(name string) bool {
	_, ok := o.member(name)
	return o.ok && ok
}

// Field is the named member. On a failed Object it is a present null that
// records nothing, so callers need no extra checks.
func (o Object) Field(name string) Value {
	if !o.ok {
		return Value{b: &Body{}, loc: appendLoc(o.loc, name), present: true}
	}
	v, ok := o.member(name)
	return Value{b: o.b, loc: appendLoc(o.loc, name), raw: v, present: ok, parent: o.raw}
}

// member is the value of the last member named name (a repeated key keeps
// its last value, as Python's json does), found by scanning the object.
func (o Object) member(name string) ([]byte, bool) {
	var found []byte
	ok := false
	if !o.ok {
		return nil, false
	}
	eachMember(o.raw, func(key, val []byte) {
		if keyIs(key, name) {
			found, ok = val, true
		}
	})
	return found, ok
}

func appendLoc(loc []any, part any) []any {
	out := make([]any, len(loc), len(loc)+1)
	copy(out, loc)
	return append(out, part)
}

// ParseInt32 parses a decimal integer the way path and query ids are read:
// ok=false when s is not a decimal integer; a decimal integer outside the
// 32-bit range yields 0, an id no serial row has, so the endpoint answers its
// own 404 (API.md §0.3).
func ParseInt32(s string) (id int32, ok bool) {
	if !decimalString.MatchString(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, true
	}
	return int32(n), true
}

// TooLong is the 422 string_too_long at loc when s has more than n
// characters (for text read outside a JSON body, e.g. a form field), or nil.
func TooLong(loc []any, s string, n int) error {
	if utf8.RuneCountInString(s) <= n {
		return nil
	}
	return apperr.Invalid(apperr.Issue{Type: "string_too_long", Loc: loc, Input: s,
		Msg: fmt.Sprintf("String should have at most %d %s", n, characters(n)), Ctx: map[string]any{"max_length": n}})
}

package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"platform/internal/apperr"
)

// MaxList is the hard maximum of items one list response carries: without
// limit/offset a list endpoint answers its full list, as the original did,
// but never more than this many items (README). 10,000 is far above what a
// college's lists hold (a few thousand users, dozens of modules, a lesson's
// submissions: 30 students × 20), so the SPA's full lists are unchanged,
// while a flood of rows cannot grow one response without bound.
const MaxList = 10000

// Page is the optional limit/offset of a list endpoint (additive to the
// original's API): Limit items starting at Offset, in the list's order.
// Lists ordered by id also take ?after_id= (a keyset): only items with a
// larger id, so the next page costs one index range read however deep it
// is (OFFSET still walks the skipped rows). AfterID is NoAfter without it.
type Page struct {
	Limit   int
	Offset  int
	AfterID int32
}

// NoAfter is Page.AfterID without ?after_id=: below every id.
const NoAfter = math.MinInt32

// FullPage is the page of a request without limit/offset.
var FullPage = Page{Limit: MaxList, AfterID: NoAfter}

// ParsePage reads ?limit= (1…MaxList, default MaxList) and ?offset= (≥ 0,
// default 0); the last of repeated values counts (API.md §0.12). Invalid
// values are 422s at ["query", name] in Pydantic's words.
func ParsePage(r *http.Request) (Page, error) { return parsePage(r, false) }

// ParseIDPage is ParsePage for a list ordered by id, which also reads
// ?after_id= (0…2³¹−1, default none). Other lists ignore after_id, as they
// ignore every parameter they do not know.
func ParseIDPage(r *http.Request) (Page, error) { return parsePage(r, true) }

func parsePage(r *http.Request, keyset bool) (Page, error) {
	p := FullPage
	var issues []apperr.Issue
	read := func(name string, minimum, maximum int, dst *int) {
		raw, ok := lastQueryValue(r.URL.RawQuery, name)
		if !ok {
			return
		}
		loc := []any{"query", name}
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		switch {
		case err != nil && !decimalString.MatchString(strings.TrimSpace(raw)):
			issues = append(issues, apperr.Issue{Type: "int_parsing", Loc: loc, Input: raw,
				Msg: "Input should be a valid integer, unable to parse string as an integer"})
		case err != nil || n > maximum:
			issues = append(issues, apperr.Issue{Type: "less_than_equal", Loc: loc, Input: raw,
				Msg: fmt.Sprintf("Input should be less than or equal to %d", maximum), Ctx: map[string]any{"le": maximum}})
		case n < minimum:
			issues = append(issues, apperr.Issue{Type: "greater_than_equal", Loc: loc, Input: raw,
				Msg: fmt.Sprintf("Input should be greater than or equal to %d", minimum), Ctx: map[string]any{"ge": minimum}})
		default:
			*dst = n
		}
	}
	read("limit", 1, MaxList, &p.Limit)
	read("offset", 0, maxOffset, &p.Offset)
	if keyset {
		after := -1
		read("after_id", 0, math.MaxInt32, &after)
		if after >= 0 {
			p.AfterID = int32(after)
		}
	}
	if len(issues) > 0 {
		return Page{}, apperr.Invalid(issues...)
	}
	return p, nil
}

// maxOffset keeps OFFSET within PostgreSQL's and Go's int ranges.
const maxOffset = 1 << 30

// lastQueryValue is the last value of a query parameter, decoded as Starlette does.
func lastQueryValue(rawQuery, name string) (string, bool) {
	var value string
	found := false
	for _, pair := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if pair != "" && unescapeQuery(k) == name {
			value, found = unescapeQuery(v), true
		}
	}
	return value, found
}

// Slice applies the page to a list already in memory (the short lists of
// small tables: groups, modules, a subject's tests).
func Slice[T any](p Page, items []T) []T {
	if p.Offset >= len(items) {
		return items[:0]
	}
	items = items[p.Offset:]
	if len(items) > p.Limit {
		items = items[:p.Limit]
	}
	return items
}

// Window reports, for the i-th (0-based) item of a list being streamed,
// whether it is on the page (in) and whether the page is complete (done).
func (p Page) Window(i int) (in, done bool) {
	return i >= p.Offset && i < p.Offset+p.Limit, i >= p.Offset+p.Limit
}

// Stream writes a JSON array one element at a time as each(yield) produces
// them, so a long list never exists whole in memory (encoded or decoded).
// The status line and headers go out with the first element: an error
// before it is an ordinary error response; one after it can no longer be
// reported in the body, so it is logged and the connection is cut, and the
// client sees a truncated body instead of a well-formed wrong answer.
func Stream[T any](w http.ResponseWriter, r *http.Request, each func(yield func(T) error) error) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	n := 0
	err := each(func(v T) error {
		buf.Reset()
		if n == 0 {
			buf.WriteByte('[')
		} else {
			buf.WriteByte(',')
		}
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("web: encode list item: %w", err)
		}
		if n == 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
		}
		n++
		_, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		return err
	})
	switch {
	case err != nil && n == 0:
		return err
	case err != nil:
		if r.Context().Err() == nil {
			Logger(r.Context()).Error("list response cut short", "method", r.Method, "route", routePattern(r), "error", err)
		}
		panic(http.ErrAbortHandler)
	case n == 0:
		return OK(w, []struct{}{})
	}
	_, _ = w.Write([]byte("]"))
	return nil
}

// Caps on the free-text columns the schema leaves unbounded (text), each a
// 422 string_too_long beyond it (API.md §0.4), chosen from what a course
// needs with room to spare, so no single value can make every page that
// shows it huge (README lists them):
const (
	// MaxContentURL: 2,048 characters is the de-facto URL limit of browsers
	// and CDNs; video and document links are 50–300.
	MaxContentURL = 2048
	// MaxLessonDescription: about five pages of text for a lesson's summary.
	MaxLessonDescription = 10000
	// MaxModuleDescription: a module's blurb on a card or page.
	MaxModuleDescription = 5000
	// MaxGroupDescription: a note about a group ("ИС-21, вечернее отделение").
	MaxGroupDescription = 1000
	// MaxComment: a homework comment, about three pages of text (the form
	// field's 64 KiB byte cap, 413, stays as a transport limit).
	MaxComment = 10000
	// MaxQuestionText, MaxOptionText: a quiz question with a formula or a
	// short passage; an answer option.
	MaxQuestionText = 2000
	MaxOptionText   = 500
)

// List answers a list already in memory, page applied: the page is encoded
// whole into one buffer (it is bounded like the list, and one encode of the
// slice with one write and a Content-Length is cheaper than an encode and a
// chunked write per element) and written by WriteParts.
func List[T any](w http.ResponseWriter, p Page, items []T) error {
	page := Slice(p, items)
	if page == nil {
		page = []T{} // [] on the wire, never null
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as JSON and Stream: "<" stays "<"
	if err := enc.Encode(page); err != nil {
		return fmt.Errorf("web: encode list: %w", err)
	}
	return WriteParts(w, bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

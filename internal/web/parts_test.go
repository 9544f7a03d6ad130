package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"platform/internal/web"
)

// WriteParts writes the parts in order with their total as Content-Length, for
// a body gathered into one buffer and for one streamed through its
// buffered writer (past 512 KB), with empty and large parts among them.
func TestWritePartsBodies(t *testing.T) {
	t.Parallel()
	part := func(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }
	for _, parts := range [][][]byte{
		{[]byte(`{"a":1}`)},
		{[]byte("["), nil, part('x', 100<<10), []byte(","), part('y', 50<<10), []byte("]")},
		{[]byte("["), part('x', 400<<10), []byte(","), part('y', 300<<10), {}, []byte("]")},
	} {
		rec := httptest.NewRecorder()
		if err := web.WriteParts(rec, parts...); err != nil {
			t.Fatal(err)
		}
		want := bytes.Join(parts, nil)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
			t.Fatalf("status %d, body of %d bytes, want %d", rec.Code, rec.Body.Len(), len(want))
		}
		if got := rec.Header().Get("Content-Length"); got != strconv.Itoa(len(want)) {
			t.Errorf("Content-Length %s, want %d", got, len(want))
		}
		if got := rec.Header().Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type %q", got)
		}
	}
}

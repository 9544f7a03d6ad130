package jsonw_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"platform/internal/jsonw"
)

// stdlib is what web.JSON writes for v: encoding/json without HTML
// escaping and without the encoder's newline.
func stdlib(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// tricky strings: byte-identical output is the contract, not just equal
// meaning, so a cached fragment and a freshly encoded one never differ.
var tricky = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "\x00\x01\x1f\x7f",
	"\b\f\n\r\t", "кириллица Ёё", "emoji 😀", "\u2028 line \u2029 para", "\ufffd literal",
	"bad \xff byte", "\xc3", "truncated \xe2\x82", "\xed\xa0\x80 surrogate", "over\xf8long",
	"\xf4\x90\x80\x80 above U+10FFFF", "mixed \"\xff\u2028<\x00",
}

func TestStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	check := func(s string) {
		t.Helper()
		if got, want := string(jsonw.String(nil, s)), stdlib(t, s); got != want {
			t.Fatalf("String(%q) = %s, want %s", s, got, want)
		}
	}
	for _, s := range tricky {
		check(s)
	}
	// Random byte strings biased towards the interesting bytes.
	alphabet := []byte("a\"\\<>&\x00\x1f\x7f\x80\xbf\xc3\xa9\xe2\x80\xa8\xa9\xed\xf0\x9f\x98\x80\xff ")
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		check(string(b))
	}
}

func FuzzString(f *testing.F) {
	for _, s := range tricky {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(jsonw.String(nil, s)), stdlib(t, s); got != want {
			t.Fatalf("String(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestFloatMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 66.67, 12.5, 100, 1e-6, 9.99e-7, 1e20, 1e21, 123456789e15,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 1.0 / 3, -2.5e-9} {
		got, ok := jsonw.Float(nil, f)
		if want := stdlib(t, f); !ok || string(got) != want {
			t.Errorf("Float(%v) = %s, %v; want %s", f, got, ok, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, ok := jsonw.Float(nil, f); ok {
			t.Errorf("Float(%v) accepted", f)
		}
	}
}

func BenchmarkString(b *testing.B) {
	s := "Введение в алгоритмы: сортировка <слиянием> & \"быстрая\""
	buf := make([]byte, 0, 256)
	b.Run("jsonw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = jsonw.String(buf[:0], s)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(s)
		}
	})
}

// Package jsonw appends JSON values to byte slices without reflection, for
// the hot responses whose shapes are known (catalog's §0.11 trees, the grade
// summary). Its output is byte-identical to what web.JSON writes for the
// same values: encoding/json with SetEscapeHTML(false), no trailing newline.
// The tests compare the two on tricky strings (invalid UTF-8, U+2028, control
// characters, <>&) and on whole shapes.
package jsonw

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	"platform/internal/timefmt"
)

// ErrUnsupported is the error of a value encoding/json refuses too (a NaN
// or infinite float); the response becomes a 500 as it would through web.JSON.
var ErrUnsupported = errors.New("jsonw: unsupported value (NaN or Inf)")

const hex = "0123456789abcdef"

// String appends s as a JSON string: '"', '\\' and control characters
// escaped (\b \f \n \r \t short, the rest \u00XX), invalid UTF-8 bytes as
// \ufffd, U+2028 and U+2029 as \u2028 and \u2029, everything else — <, >
// and & included — as is. These are encoding/json's rules with HTML
// escaping off.
func String(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		// A valid two-byte sequence (Cyrillic, most of this service's text)
		// is never escaped: skip it without decoding.
		if b >= 0xC2 && b <= 0xDF && i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
			i += 2
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// StringPtr appends *s, or null when s is nil.
func StringPtr(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return String(dst, *s)
}

// Int appends n.
func Int(dst []byte, n int32) []byte { return strconv.AppendInt(dst, int64(n), 10) }

// IntPtr appends *n, or null when n is nil.
func IntPtr(dst []byte, n *int32) []byte {
	if n == nil {
		return append(dst, "null"...)
	}
	return Int(dst, *n)
}

// Float appends f as encoding/json does (ES6 number formatting: 'f' between
// 1e-6 and 1e21, else 'e' with a one-digit negative exponent unpadded);
// ok is false for NaN and ±Inf, which JSON cannot carry.
func Float(dst []byte, f float64) (out []byte, ok bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

// Time appends t in the API's datetime format (timefmt), quoted.
func Time(dst []byte, t timefmt.Time) []byte {
	dst = append(dst, '"')
	dst = timefmt.Append(dst, t.Time)
	return append(dst, '"')
}

// TimePtr appends *t, or null when t is nil.
func TimePtr(dst []byte, t *timefmt.Time) []byte {
	if t == nil {
		return append(dst, "null"...)
	}
	return Time(dst, *t)
}

package storage

import (
	"strings"

	"platform/internal/apperr"
)

// Extension applies the original's rule for the client's file name (API.md
// §0.7): the text after the last "/", its last "."; empty when there is none
// or only dots precede it; lower-cased. An extension with "\", NUL, a control
// character, or over 32 characters is refused with "Недопустимое имя файла".
func Extension(filename string) (string, error) {
	base := filename[strings.LastIndex(filename, "/")+1:]
	dot := strings.LastIndex(base, ".")
	if dot < 0 || strings.Trim(base[:dot], ".") == "" {
		return "", nil
	}
	ext := strings.ToLower(base[dot:])
	if len([]rune(ext)) > 32 || strings.ContainsAny(ext, "\\\x00") || strings.ContainsFunc(ext, isControl) {
		return "", apperr.BadRequest("Недопустимое имя файла")
	}
	return ext, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// CheckAllowed refuses an extension outside the allowlist with
// "Недопустимый тип файла: {ext}" ("без расширения" when empty).
func CheckAllowed(ext string, allowed ...string) error {
	for _, a := range allowed {
		if ext == a {
			return nil
		}
	}
	shown := ext
	if shown == "" {
		shown = "без расширения"
	}
	return apperr.BadRequest("Недопустимый тип файла: " + shown)
}

package storage

import (
	"strings"
	"unicode/utf8"

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

// LessonDocPrefix starts the stored string of every uploaded lesson
// document (API.md §0.9): "/static/lesson_docs/{name}".
const LessonDocPrefix = "/static/" + LessonDocsDir + "/"

// LessonDoc returns the file name of a content_url in the canonical form of
// an uploaded document: LessonDocPrefix, then a name the upload could have
// produced (FileName). ok is false for every other string.
func LessonDoc(contentURL string) (name string, ok bool) {
	name, found := strings.CutPrefix(contentURL, LessonDocPrefix)
	if !found || !FileName(name) {
		return "", false
	}
	return name, true
}

// FileName reports whether name is one plain file name the server could
// have written: not empty, at most 255 bytes of UTF-8, no "/", "\", NUL or
// control character, and not starting with "." (which also excludes "."
// and "..", and the ".tmp-" names of uploads in progress).
func FileName(name string) bool {
	return name != "" && len(name) <= 255 && utf8.ValidString(name) && !strings.HasPrefix(name, ".") &&
		!strings.ContainsAny(name, "/\\\x00") && !strings.ContainsFunc(name, isControl)
}

// SafeRel reports whether rel is a relative path under the root made of
// plain segments: no "", "." or ".." segment, no leading "/", no NUL.
// os.Root already keeps every access inside the root; this refuses ".."
// even when it would stay inside (lesson_docs/../homework/…), so a stored
// string can only ever name the file it spells.
func SafeRel(rel string) bool {
	if rel == "" || strings.IndexByte(rel, 0) >= 0 {
		return false
	}
	for seg := range strings.SplitSeq(rel, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

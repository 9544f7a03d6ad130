package files

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"platform/internal/storage"
)

// requestName is the file name after prefix: the escaped path is read and
// decoded once here (chi may route on the escaped form), so %2e%2e and %2f
// are seen for what they are. ok is false for names that cannot be inside
// the root: undecodable, absolute, with a ".." segment or a NUL byte.
// Other segments are left as sent ("a//b", a trailing "/"): the path is
// taken literally and the file system has the last word.
func requestName(r *http.Request, prefix string) (string, bool) {
	rest, found := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	if !found {
		return "", false
	}
	name, err := url.PathUnescape(rest)
	if err != nil || strings.HasPrefix(name, "/") || strings.ContainsRune(name, 0) {
		return "", false
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return "", false
		}
	}
	if name == "" {
		name = "."
	}
	return name, true
}

// serve writes the file with validators and Range support: http.ServeContent
// answers conditional requests (304/412), single and multiple ranges (206),
// unsatisfiable ranges (416 with "Content-Range: bytes */size") and HEAD,
// and copies the content without holding it in memory.
func serve(w http.ResponseWriter, r *http.Request, f *storage.File) {
	w.Header().Set("ETag", fmt.Sprintf(`"%x-%x"`, f.ModTime.UnixNano(), f.Size))
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, f.Name, f.ModTime, f)
}

// attachment is the Content-Disposition of a download (API.md §10): a plain
// quoted filename when every character is unreserved ASCII, else the
// RFC 5987 form with the UTF-8 bytes percent-encoded.
func attachment(name string) string {
	var enc strings.Builder
	plain := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if unreserved(c) {
			enc.WriteByte(c)
			continue
		}
		plain = false
		fmt.Fprintf(&enc, "%%%02X", c)
	}
	if plain {
		return `attachment; filename="` + name + `"`
	}
	return "attachment; filename*=utf-8''" + enc.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

package files

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
)

// Why a name could not be opened; each endpoint has its own answer.
var (
	errOutside = errors.New("files: path leaves the root")
	errMissing = errors.New("files: no such file")
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

// file is an open regular file with its metadata.
type file struct {
	*os.File
	info fs.FileInfo
}

// open opens a regular file through root, which refuses any path or symlink
// leaving it: errOutside for that, errMissing for a missing file, a
// directory or anything else that is not a regular file.
func open(root *os.Root, name string) (file, error) {
	info, err := root.Stat(name)
	if err != nil {
		return file{}, classify(err)
	}
	if !info.Mode().IsRegular() {
		return file{}, errMissing // checked before opening: a FIFO would block the open
	}
	f, err := root.Open(name)
	if err != nil {
		return file{}, classify(err)
	}
	// The validators must describe the file served: the name may have been
	// replaced (saves rename into place) since the Stat above.
	if info, err = f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return file{}, fmt.Errorf("files: stat: %w", err)
		}
		return file{}, errMissing
	}
	return file{File: f, info: info}, nil
}

// classify maps an os.Root failure. os.Root reports an escape (a ".."
// walk, an absolute symlink, a link out of the root) with an error that is
// not an errno; that and EINVAL/ELOOP mean the name is not acceptable.
func classify(err error) error {
	var errno syscall.Errno
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ENAMETOOLONG):
		return errMissing
	case errors.As(err, &errno) && errno != syscall.EINVAL && errno != syscall.ELOOP:
		return fmt.Errorf("files: open: %w", err)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return errOutside
	}
	return fmt.Errorf("files: open: %w", err)
}

// serve writes the file with validators and Range support: http.ServeContent
// answers conditional requests (304/412), single and multiple ranges (206),
// unsatisfiable ranges (416 with "Content-Range: bytes */size") and HEAD,
// and copies the content without holding it in memory.
func (f file) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("ETag", fmt.Sprintf(`"%x-%x"`, f.info.ModTime().UnixNano(), f.info.Size()))
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, f.info.Name(), f.info.ModTime(), f.File)
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

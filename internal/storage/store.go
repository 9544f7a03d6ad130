// Package storage keeps uploaded files under STATIC_DIR (API.md §0.7, §0.9):
// every access goes through an os.Root, so no path can leave the static root,
// files are written under a temporary name and renamed when complete, and the
// stored strings ("static/…", "/static/lesson_docs/…") map to disk in one place.
package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"strings"

	"platform/internal/apperr"
)

// The directories under the static root (API.md §0.9).
const (
	PhotosDir     = "photos"
	LessonDocsDir = "lesson_docs"
	HomeworkDir   = "homework"
)

// Store is the static root on disk.
type Store struct {
	root *os.Root
	log  *slog.Logger
}

// Open opens (creating if needed) the static root and its fixed directories.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	for _, d := range []string{PhotosDir, LessonDocsDir, HomeworkDir} {
		if err := root.MkdirAll(d, 0o755); err != nil {
			root.Close()
			return nil, fmt.Errorf("storage: create %s/%s: %w", dir, d, err)
		}
	}
	return &Store{root: root, log: log}, nil
}

// Close releases the root.
func (s *Store) Close() error { return s.root.Close() }

// Root is the os.Root of the static directory, for read access (downloads).
func (s *Store) Root() *os.Root { return s.root }

// Rel maps a stored string ("static/photos/x.png", "/static/lesson_docs/x.pdf")
// to its path under the root; ok is false for strings outside "static/".
func Rel(stored string) (rel string, ok bool) {
	s := strings.TrimPrefix(stored, "/")
	rest, found := strings.CutPrefix(s, "static/")
	if !found || rest == "" {
		return "", false
	}
	return rest, true
}

// Stored maps a path under the root to the string kept in rows ("static/…").
func Stored(rel string) string { return "static/" + rel }

// NewName is a server-generated file name: 32 lower-case hex characters of a
// random (version 4) UUID, then ext.
func NewName(ext string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:]) + ext
}

// ErrTooLarge is returned by Save when the content passes the limit.
var ErrTooLarge = errors.New("storage: file too large")

// Save streams src to rel (creating its directory), stopping at once when more
// than limit bytes arrive (ErrTooLarge, nothing left on disk). The content is
// written under a temporary name and renamed when complete, so a reader never
// sees half a file. A read error from src is returned as is; a disk failure is
// the 500 "Ошибка при сохранении файла".
func (s *Store) Save(rel string, src io.Reader, limit int64) (int64, error) {
	if !SafeRel(rel) {
		return 0, saveFailed(fmt.Errorf("refused path %q", rel))
	}
	dir := path.Dir(rel)
	if err := s.root.MkdirAll(dir, 0o755); err != nil {
		return 0, saveFailed(err)
	}
	tmp := path.Join(dir, ".tmp-"+NewName(""))
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, saveFailed(err)
	}
	in := &readErrs{r: io.LimitReader(src, limit+1)}
	n, err := io.Copy(f, in)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case in.err != nil:
		err = in.err
	case err != nil:
		err = saveFailed(err)
	case n > limit:
		err = ErrTooLarge
	default:
		if rerr := s.root.Rename(tmp, rel); rerr != nil {
			err = saveFailed(rerr)
		}
	}
	if err != nil {
		_ = s.root.Remove(tmp)
		return n, err
	}
	return n, nil
}

// readErrs remembers a read failure so Save can tell the client's stream
// breaking from the disk failing.
type readErrs struct {
	r   io.Reader
	err error
}

func (r *readErrs) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

func saveFailed(err error) error {
	return apperr.Internal("Ошибка при сохранении файла", fmt.Errorf("storage: save: %w", err))
}

// Remove deletes files by their paths under the root, best effort: a failure
// is logged, never returned (API.md §0.8: files go after the commit). A path
// that is not SafeRel is refused (logged), even when it stays inside the root.
func (s *Store) Remove(ctx context.Context, rels ...string) {
	for _, rel := range rels {
		if rel == "" {
			continue
		}
		if !SafeRel(rel) {
			s.log.WarnContext(ctx, "remove file: refused path", "path", rel)
			continue
		}
		if err := s.root.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.WarnContext(ctx, "remove file", "path", rel, "error", err)
		}
	}
}

// RemoveStored is Remove for stored strings; strings outside "static/" are skipped.
func (s *Store) RemoveStored(ctx context.Context, stored ...string) {
	for _, st := range stored {
		if rel, ok := Rel(st); ok {
			s.Remove(ctx, rel)
		}
	}
}

// RemoveDir deletes a directory tree under the root, best effort.
func (s *Store) RemoveDir(ctx context.Context, rel string) {
	if !SafeRel(rel) {
		s.log.WarnContext(ctx, "remove directory: refused path", "path", rel)
		return
	}
	if err := s.root.RemoveAll(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.WarnContext(ctx, "remove directory", "path", rel, "error", err)
	}
}

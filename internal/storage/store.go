// Package storage keeps uploaded files (API.md §0.7, §0.9) behind one
// interface, Store, with two implementations: Local, the static root on disk
// (every access through an os.Root, so no path can leave it), and S3, a
// bucket of an S3-compatible object store shared by several instances. Both
// publish a file only when it is complete, and the stored strings
// ("static/…", "/static/lesson_docs/…") map to names in one place (Rel,
// Stored): the name under the root is the object key, so rows written before
// a move to a bucket keep working.
package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"platform/internal/apperr"
)

// The directories under the static root (API.md §0.9).
const (
	PhotosDir     = "photos"
	LessonDocsDir = "lesson_docs"
	HomeworkDir   = "homework"
)

// Store is where uploaded files live. Names ("rel") are slash-separated paths
// under the static root, such as "lesson_docs/<hex>.pdf".
type Store interface {
	// Save streams src to rel, stopping at once when more than limit bytes
	// arrive (ErrTooLarge). Nothing is visible under rel until the content
	// is complete; a failed save leaves nothing behind. A read error from
	// src is returned as is; a store that cannot be reached or does not
	// answer in time is the 503 of §0.4 (Unavailable), any other store
	// failure the 500 "Ошибка при сохранении файла".
	Save(ctx context.Context, rel string, src io.Reader, limit int64) (int64, error)
	// Open opens the regular file name, taken as a path under dir (""
	// for the root) and confined to dir: ErrOutside when the name leaves
	// it (e.g. a symlink on disk), ErrNotExist when there is no such file.
	// The caller closes the file.
	Open(ctx context.Context, dir, name string) (*File, error)
	// Remove deletes files, best effort: a failure is logged, never
	// returned (API.md §0.8: files go after the commit).
	Remove(ctx context.Context, rels ...string)
	// RemoveDir deletes everything under the directory rel, best effort.
	RemoveDir(ctx context.Context, rel string)
	// Walk calls fn for every file under dir ("" for the whole store), in
	// no particular order, until fn returns an error, which Walk returns.
	// It sees files whose rows are not committed yet and, on disk,
	// temporary files of saves in progress (".tmp-…"), so whoever deletes
	// what it finds must spare recent entries (Entry.ModTime).
	Walk(ctx context.Context, dir string, fn func(Entry) error) error
	// AbortStaleUploads aborts the store's incomplete uploads started more
	// than olderThan ago (S3 multipart uploads left by a killed instance or
	// a failed abort; Walk does not see them) and returns how many it
	// aborted. The local store has none: a no-op.
	AbortStaleUploads(ctx context.Context, olderThan time.Duration) (int, error)
	// Close releases the store.
	Close() error
}

// File is an open stored file: a reader that can seek (http.ServeContent
// serves Range and conditional requests from it) with its size and
// modification time.
type File struct {
	io.ReadSeekCloser
	Name    string // the last element of the path
	Size    int64
	ModTime time.Time
}

// Entry is one file seen by Walk.
type Entry struct {
	Rel     string // path under the root, e.g. "homework/lesson_3/x.pdf"
	Size    int64
	ModTime time.Time
}

// Why Open failed; each endpoint has its own answer for them.
var (
	ErrOutside  = errors.New("storage: path leaves the directory")
	ErrNotExist = errors.New("storage: no such file")
)

// ErrTooLarge is returned by Save when the content passes the limit.
var ErrTooLarge = errors.New("storage: file too large")

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

// RemoveStored is Store.Remove for stored strings; strings outside "static/"
// are skipped.
func RemoveStored(ctx context.Context, s Store, stored ...string) {
	for _, st := range stored {
		if rel, ok := Rel(st); ok {
			s.Remove(ctx, rel)
		}
	}
}

// NewName is a server-generated file name: 32 lower-case hex characters of a
// random (version 4) UUID, then ext.
func NewName(ext string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:]) + ext
}

// readErrs remembers a read failure so Save can tell the client's stream
// breaking from the store failing.
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

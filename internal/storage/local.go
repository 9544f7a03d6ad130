package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"syscall"
	"time"
)

// Local is the static root on disk (FILE_STORE=local): one instance, or
// several sharing a network file system.
type Local struct {
	root *os.Root
	log  *slog.Logger
}

var _ Store = (*Local)(nil)

// Open opens (creating if needed) the static root and its fixed directories.
func Open(dir string, log *slog.Logger) (*Local, error) {
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
	return &Local{root: root, log: log}, nil
}

// Close releases the root.
func (s *Local) Close() error { return s.root.Close() }

// Save writes under a temporary name in rel's directory and renames the file
// into place when complete, so a reader never sees half a file.
func (s *Local) Save(_ context.Context, rel string, src io.Reader, limit int64) (int64, error) {
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

// Open opens name through an os.Root of dir, which refuses any path or
// symlink leaving it.
func (s *Local) Open(_ context.Context, dir, name string) (*File, error) {
	root := s.root
	if dir != "" {
		sub, err := s.root.OpenRoot(dir)
		if err != nil {
			return nil, classify(err)
		}
		defer sub.Close()
		root = sub
	}
	info, err := root.Stat(name)
	if err != nil {
		return nil, classify(err)
	}
	if !info.Mode().IsRegular() {
		return nil, ErrNotExist // checked before opening: a FIFO would block the open
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, classify(err)
	}
	// The validators must describe the file served: the name may have been
	// replaced (saves rename into place) since the Stat above.
	if info, err = f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("storage: stat: %w", err)
		}
		return nil, ErrNotExist
	}
	return &File{ReadSeekCloser: f, Name: info.Name(), Size: info.Size(), ModTime: info.ModTime()}, nil
}

// classify maps an os.Root failure. os.Root reports an escape (a ".."
// walk, an absolute symlink, a link out of the root) with an error that is
// not an errno; that and EINVAL/ELOOP mean the name is not acceptable.
func classify(err error) error {
	var errno syscall.Errno
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ENAMETOOLONG):
		return ErrNotExist
	case errors.As(err, &errno) && errno != syscall.EINVAL && errno != syscall.ELOOP:
		return fmt.Errorf("storage: open: %w", err)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return ErrOutside
	}
	return fmt.Errorf("storage: open: %w", err)
}

// Remove deletes files by their paths under the root. A path that is not
// SafeRel is refused (logged), even when it stays inside the root.
func (s *Local) Remove(ctx context.Context, rels ...string) {
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

// RemoveDir deletes a directory tree under the root.
func (s *Local) RemoveDir(ctx context.Context, rel string) {
	if !SafeRel(rel) {
		s.log.WarnContext(ctx, "remove directory: refused path", "path", rel)
		return
	}
	if err := s.root.RemoveAll(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.WarnContext(ctx, "remove directory", "path", rel, "error", err)
	}
}

// Walk visits the regular files under dir; symlinks and other special files
// are not files of the store and are skipped. A dir that does not exist has
// no files.
// AbortStaleUploads has nothing to do on disk: a save writes a temporary
// file that Walk sees (and the orphan sweep removes once it is old).
func (s *Local) AbortStaleUploads(context.Context, time.Duration) (int, error) { return 0, nil }

func (s *Local) Walk(ctx context.Context, dir string, fn func(Entry) error) error {
	if dir == "" {
		dir = "."
	}
	err := fs.WalkDir(s.root.FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		if err != nil {
			return err
		}
		return fn(Entry{Rel: p, Size: info.Size(), ModTime: info.ModTime()})
	})
	if err != nil {
		return fmt.Errorf("storage: walk %s: %w", dir, err)
	}
	return nil
}

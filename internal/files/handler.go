// Package files serves stored files: downloads of anything under the static
// root (/files/download, API.md §10) and the public avatars
// (/static/photos, §11). The design named no package for this: downloads are
// their own concern — path confinement, authorization by location, HTTP
// ranges and caching — shared by every kind of stored file, so they live
// apart from the domains that write the files.
package files

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"path"
	"strings"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/storage"
)

// The URL prefixes whose remainder is a path under the static root.
const (
	downloadPrefix = "/files/download/"
	photosPrefix   = "/static/photos/"
)

// Handler serves stored files.
type Handler struct {
	pool  *db.Pool
	store storage.Store
}

// NewHandler returns the file handler.
func NewHandler(pool *db.Pool, store storage.Store) *Handler {
	return &Handler{pool: pool, store: store}
}

// download is GET|HEAD /files/download/{file_path}: resolved strictly inside
// the static root, then authorized by location, then served as an attachment.
func (h *Handler) download(w http.ResponseWriter, r *http.Request) error {
	name, ok := requestName(r, downloadPrefix)
	if !ok {
		return apperr.Forbidden("Недопустимый путь к файлу")
	}
	f, err := h.store.Open(r.Context(), "", name)
	switch {
	case errors.Is(err, storage.ErrOutside):
		return apperr.Forbidden("Недопустимый путь к файлу")
	case errors.Is(err, storage.ErrNotExist):
		return apperr.NotFound("Файл не найден")
	case err != nil:
		return err
	}
	defer f.Close()
	rel := path.Clean(name)
	allowed, err := h.mayDownload(r.Context(), auth.MustUser(r.Context()), rel)
	if err != nil {
		return err
	}
	if !allowed {
		return apperr.Forbidden("Недостаточно прав")
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", attachment(path.Base(rel)))
	serve(w, r, f)
	return nil
}

// mayDownload is the authorization by location of API.md §10.
func (h *Handler) mayDownload(ctx context.Context, u auth.User, rel string) (bool, error) {
	if u.Role == auth.Admin {
		return true, nil
	}
	top, _, _ := strings.Cut(rel, "/")
	switch top {
	case storage.PhotosDir, storage.LessonDocsDir:
		return true, nil
	case storage.HomeworkDir:
		return NewRepo(h.pool).MayReadHomework(ctx, u, storage.Stored(rel))
	}
	return false, nil
}

// photo is GET|HEAD /static/photos/{name}: public, inline, confined to
// photos/ (symlinks leaving it included); every failure is the plain 404.
func (h *Handler) photo(w http.ResponseWriter, r *http.Request) error {
	notFound := apperr.NotFound("Not Found")
	name, ok := requestName(r, photosPrefix)
	if !ok {
		return notFound
	}
	f, err := h.store.Open(r.Context(), storage.PhotosDir, name)
	switch {
	case errors.Is(err, storage.ErrOutside), errors.Is(err, storage.ErrNotExist):
		return notFound
	case err != nil:
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", photoType(path.Ext(name)))
	serve(w, r, f)
	return nil
}

// photoType is the avatar content type of API.md §11.
func photoType(ext string) string {
	switch strings.ToLower(ext) {
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

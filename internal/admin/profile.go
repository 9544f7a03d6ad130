package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/storage"
	"platform/internal/web"
)

// Texts of /user (API.md §3).
const (
	msgUserNotFound    = "Пользователь не найден"
	msgPhoneTaken      = "Этот номер уже используется"
	msgPhotoTooLarge   = "Файл слишком большой (до 5 МБ)"
	msgWrongPassword   = "Неверный текущий пароль"
	msgPasswordChanged = "Пароль успешно изменён"
)

// Avatar rules (API.md §0.7).
const photoLimit = 5 * storage.MiB

var photoExts = []string{".jpg", ".jpeg", ".png", ".webp", ".gif"}

// photoTypes are the sniffed content types accepted for avatars: they are
// served publicly, so the extension alone is not trusted (§3 upload-photo).
var photoTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// userByIIN is GET /user/by-iin/{iin}.
func (h *Handler) userByIIN(w http.ResponseWriter, r *http.Request) error {
	u, err := h.repo.userOutByIIN(r.Context(), chi.URLParam(r, "iin"))
	if errors.Is(err, errNotFound) {
		return apperr.NotFound(msgUserNotFound)
	}
	if err != nil {
		return err
	}
	return web.OK(w, u)
}

// updatePhone is POST /user/update-phone: a blank phone clears it.
func (h *Handler) updatePhone(w http.ResponseWriter, r *http.Request) error {
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	f := b.Root().Object().Field("phone")
	raw, ok := f.Str()
	phone := strings.TrimSpace(raw)
	if ok {
		f.MaxLen(phone, 20)
	}
	if err := b.Err(); err != nil {
		return err
	}
	me := auth.MustUser(r.Context())
	u, err := h.repo.setPhone(r.Context(), me.ID, optional(phone))
	switch {
	case db.IsUniqueViolation(err, uqUserPhone):
		return apperr.BadRequest(msgPhoneTaken)
	case errors.Is(err, errNotFound):
		return apperr.NotFound(msgUserNotFound)
	case err != nil:
		return err
	}
	return web.OK(w, userEnvelope{User: u.Block()})
}

// uploadPhoto is POST /user/upload-photo: the file is checked (size,
// extension, content), written under a server-made name, then the row is
// updated; the previous photo goes only after the commit.
func (h *Handler) uploadPhoto(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	me := auth.MustUser(ctx)
	up, err := storage.NewUpload(r, photoLimit, msgPhotoTooLarge)
	if err != nil {
		return err
	}
	part, err := filePart(up, "photo")
	if err != nil {
		return err
	}
	ext, err := storage.Extension(part.ClientName())
	if err != nil {
		return err
	}
	if err := storage.CheckAllowed(ext, photoExts...); err != nil {
		return err
	}
	head, content, err := up.Peek(part, 512)
	if err != nil {
		return err
	}
	if !photoTypes[http.DetectContentType(head)] {
		return storage.CheckAllowed(ext) // the same 400 text, naming the extension
	}
	rel := fmt.Sprintf("%s/%d_%s", storage.PhotosDir, me.ID, storage.NewName(ext))
	if _, err := up.SaveReader(h.store, content, rel, photoLimit); err != nil {
		return err
	}
	var u auth.User
	var old *string
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		u, old, err = NewRepo(tx).setPhoto(ctx, me.ID, storage.Stored(rel))
		return err
	})
	if err != nil {
		if !db.CommitUnknown(err) { // else the orphan reconciler decides
			h.store.Remove(ctx, rel)
		}
		if errors.Is(err, errNotFound) {
			return apperr.NotFound(msgUserNotFound)
		}
		return err
	}
	if old != nil {
		// Cleaned first: a stored "static/photos/../x" names a file outside photos/.
		if oldRel, ok := storage.Rel(*old); ok {
			if oldRel = path.Clean(oldRel); oldRel != rel && strings.HasPrefix(oldRel, storage.PhotosDir+"/") {
				h.store.Remove(ctx, oldRel)
			}
		}
	}
	return web.OK(w, userEnvelope{User: u.Block()})
}

// filePart skips to the file field named name; its absence is FastAPI's 422.
// Skipped non-file fields still keep the 64 KiB cap of API.md §0.7.
func filePart(up *storage.Upload, name string) (storage.Part, error) {
	for {
		p, err := up.Next()
		if err == io.EOF {
			return storage.Part{}, apperr.Invalid(apperr.Missing([]any{"body", name}, nil))
		}
		if err != nil {
			return storage.Part{}, err
		}
		if p.FormName() == name && p.IsFile() {
			return p, nil
		}
		if p.IsFile() {
			err = up.Drain(p)
		} else {
			_, err = up.Value(p)
		}
		if err != nil {
			return storage.Part{}, err
		}
	}
}

// changePassword is PATCH /user/change-password.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) error {
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	oldPw := password(o.Field("old_password"))
	newPw := password(o.Field("new_password"))
	if err := b.Err(); err != nil {
		return err
	}
	ctx := r.Context()
	me := auth.MustUser(ctx)
	ok, err := h.hasher.Verify(ctx, me.HashedPassword, oldPw)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.BadRequest(msgWrongPassword)
	}
	if err := h.setPassword(ctx, me.IIN, newPw); err != nil {
		return err
	}
	return web.OK(w, message{Message: msgPasswordChanged})
}

// password reads a required password of at least 6 characters.
func password(v web.Value) string {
	s, ok := v.Str()
	if ok {
		v.MinLen(s, 6)
	}
	return s
}

// setPassword hashes (in a bcrypt slot, no connection held) and stores a
// new password for the IIN; errNotFound when no such user.
func (h *Handler) setPassword(ctx context.Context, iin, pw string) error {
	hash, err := h.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	return h.repo.setPassword(ctx, iin, hash)
}

// optional is nil for a blank string (stored as NULL), else s.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// userOutByIIN reads the UserOut of the IIN.
func (repo *Repo) userOutByIIN(ctx context.Context, iin string) (userOut, error) {
	const q = `SELECT id, iin, full_name FROM users WHERE iin = $1`
	rows, err := repo.db.Query(ctx, q, iin)
	return one[userOut](rows, err, "load user by iin")
}

// setPassword stores a password hash; errNotFound when no user has the IIN.
func (repo *Repo) setPassword(ctx context.Context, iin, hash string) error {
	found, err := repo.exec(ctx, "set password", `UPDATE users SET hashed_password = $2 WHERE iin = $1`, iin, hash)
	if err != nil {
		return err
	}
	if !found {
		return errNotFound
	}
	return nil
}

// setPhone sets (or clears) the user's phone; the unique constraint decides
// conflicts, so a concurrent race cannot store one number twice.
func (repo *Repo) setPhone(ctx context.Context, id int32, phone *string) (auth.User, error) {
	const q = `
UPDATE users SET phone = $2 WHERE id = $1
RETURNING id, iin, full_name, phone, role::text AS role, photo`
	rows, err := repo.db.Query(ctx, q, id, phone)
	return one[auth.User](rows, err, "set phone")
}

// setPhoto stores the user's new photo and returns the previous one, read
// under the row lock so two uploads cannot both miss each other's file.
func (repo *Repo) setPhoto(ctx context.Context, id int32, photo string) (auth.User, *string, error) {
	const lock = `SELECT photo FROM users WHERE id = $1 FOR UPDATE`
	var old *string
	if err := repo.db.QueryRow(ctx, lock, id).Scan(&old); errors.Is(err, pgx.ErrNoRows) {
		return auth.User{}, nil, errNotFound
	} else if err != nil {
		return auth.User{}, nil, fmt.Errorf("admin: lock user: %w", err)
	}
	const q = `
UPDATE users SET photo = $2 WHERE id = $1
RETURNING id, iin, full_name, phone, role::text AS role, photo`
	rows, err := repo.db.Query(ctx, q, id, photo)
	u, err := one[auth.User](rows, err, "set photo")
	return u, old, err
}

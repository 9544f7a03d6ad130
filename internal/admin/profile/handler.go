// Package profile serves /user (API.md §3): the caller's own account —
// lookup by IIN, phone, avatar upload and password change.
package profile

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/ratelimit"
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
	msgSamePassword    = "Новый пароль должен отличаться от текущего"
)

// Avatar rules (API.md §0.7).
const photoLimit = 5 * storage.MiB

var photoExts = []string{".jpg", ".jpeg", ".png", ".webp", ".gif"}

// photoTypes are the sniffed content types accepted for avatars: they are
// served publicly, so the extension alone is not trusted (§3 upload-photo).
var photoTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// Handler serves /user.
type Handler struct {
	pool     *db.Pool
	repo     *repo
	hasher   *auth.Hasher
	throttle *auth.Throttle
	store    storage.Store
	// lookups limits GET /user/by-iin per user (issue 10: any token could
	// enumerate every account, and imported accounts start with an
	// IIN-derived password).
	lookups *ratelimit.Keyed
	// phones limits POST /user/update-phone per user (issue 21: its
	// "number taken" answer tells whether a number belongs to an account).
	phones *ratelimit.Keyed
}

// The phone-change limit: a person changes a phone a few times at most.
const (
	phoneChangesPerMinute = 10
	phoneChangeBurst      = 20
	maxPhoneUsers         = 10000
)

// NewHandler returns the handler; hasher is the shared bcrypt pool,
// throttle the login throttle (the current-password check is a password
// oracle too, so it is throttled under the user's IIN), lookups the per-user
// limit of IIN lookups.
func NewHandler(pool *db.Pool, hasher *auth.Hasher, throttle *auth.Throttle, store storage.Store, lookups *ratelimit.Keyed) *Handler {
	return &Handler{pool: pool, repo: newRepo(pool), hasher: hasher, throttle: throttle, store: store, lookups: lookups,
		phones: ratelimit.New(phoneChangesPerMinute, phoneChangeBurst, maxPhoneUsers)}
}

// userByIIN is GET /user/by-iin/{iin}. A caller over the lookup rate gets
// 429 with Retry-After, before the database is asked.
func (h *Handler) userByIIN(w http.ResponseWriter, r *http.Request) error {
	if ok, wait := h.lookups.Allow(auth.MustUser(r.Context()).ID); !ok {
		return apperr.TooManyRequests(fmt.Sprintf("Слишком много запросов поиска по ИИН. Повторите через %d с.", wait), wait)
	}
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
	if ok, wait := h.phones.Allow(me.ID); !ok {
		return apperr.TooManyRequests(fmt.Sprintf("Слишком много попыток сменить телефон. Повторите через %d с.", wait), wait)
	}
	u, err := h.repo.setPhone(r.Context(), me.ID, web.NullIfEmpty(phone))
	switch {
	case db.IsUniqueViolation(err, uniquePhone):
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
	part, err := up.NextFile("photo")
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
		u, old, err = newRepo(tx).setPhoto(ctx, me.ID, storage.Stored(rel))
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
	// Counted like a login under the same key (API.md §0.5.4): a locked
	// IIN gets the login's 403, a wrong current password is a failure.
	ok, err := h.throttle.Check(ctx, me.IIN, func(ctx context.Context) (bool, error) {
		return h.hasher.Verify(ctx, me.HashedPassword, oldPw)
	})
	if err != nil {
		return err
	}
	if !ok {
		return apperr.BadRequest(msgWrongPassword)
	}
	// Only the first 72 bytes count in bcrypt (API.md §0.5.3): a new password
	// equal to the old one there is the old one (and would clear the flag of
	// an imported default without changing anything).
	if auth.SamePassword(oldPw, newPw) {
		return apperr.BadRequest(msgSamePassword)
	}
	// The session making the change keeps working; every other one ends.
	if err := auth.SetPassword(ctx, h.hasher, h.pool, me.IIN, newPw, auth.SessionFrom(ctx), errNotFound); err != nil {
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

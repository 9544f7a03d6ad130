// Package users serves /admin/users (API.md §4): create, list and delete
// users, and reset a password (which also lifts the login throttle).
package users

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/jobs"
	"platform/internal/purge"
	"platform/internal/storage"
	"platform/internal/web"
)

// Texts of /admin/users (API.md §4).
const (
	msgIINTaken         = "Пользователь с таким ИИН уже существует"
	msgUserPhoneTaken   = "Номер телефона уже используется"
	msgCannotDeleteAdmn = "Нельзя удалить администратора"
	msgUserNotFound     = "Пользователь не найден"
)

// Handler serves /admin/users.
type Handler struct {
	pool     *db.Pool
	repo     *repo
	hasher   *auth.Hasher
	throttle *auth.Throttle
	store    storage.Store
	jobs     *jobs.Engine // nil: files removed after the commit
}

// NewHandler returns the handler; hasher is the shared bcrypt pool,
// throttle the login throttle a password reset clears.
func NewHandler(pool *db.Pool, hasher *auth.Hasher, throttle *auth.Throttle, store storage.Store) *Handler {
	return &Handler{pool: pool, repo: newRepo(pool), hasher: hasher, throttle: throttle, store: store}
}

// create is POST /admin/users/.
func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	var nu newUser
	nu.IIN, _ = o.Field("iin").IIN()
	nu.FullName = o.Field("full_name").TrimmedStr(1, 255)
	phone := o.Field("phone")
	if p, ok := phone.OptStr(); ok && p != nil {
		trimmed := strings.TrimSpace(*p)
		phone.MaxLen(trimmed, 20)
		nu.Phone = web.NullIfEmpty(trimmed)
	}
	nu.Role = role(o.Field("role"))
	nu.Password, _ = o.Field("password").Str()
	if err := b.Err(); err != nil {
		return err
	}
	ctx := r.Context()
	// Checked before hashing, so a plain duplicate costs no bcrypt; the
	// unique constraints still decide under a concurrent create.
	iinTaken, phoneTaken, err := h.repo.userConflicts(ctx, nu.IIN, nu.Phone)
	if err != nil {
		return err
	}
	if iinTaken {
		return apperr.BadRequest(msgIINTaken)
	}
	if phoneTaken {
		return apperr.BadRequest(msgUserPhoneTaken)
	}
	hash, err := h.hasher.Hash(ctx, nu.Password)
	if err != nil {
		return err
	}
	u, err := h.repo.insertUser(ctx, nu, hash)
	switch {
	case db.IsUniqueViolation(err, uniqueIIN):
		return apperr.BadRequest(msgIINTaken)
	case db.IsUniqueViolation(err, uniquePhone):
		return apperr.BadRequest(msgUserPhoneTaken)
	case err != nil:
		return err
	}
	return web.OK(w, u)
}

// role reads an optional role; absent or null means student.
func role(v web.Value) auth.Role {
	if v.Null() {
		return auth.Student
	}
	s, _ := v.Raw().(string)
	if r := auth.Role(s); r.Valid() {
		return r
	}
	v.Fail("enum", "Input should be 'student', 'teacher' or 'admin'",
		map[string]any{"expected": "'student', 'teacher' or 'admin'"})
	return ""
}

// list is GET /admin/users/: the page of users by id, one query, streamed
// row by row from the database to the client.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	page, pageErr := web.ParseIDPage(r)
	if pageErr != nil {
		return pageErr
	}
	return web.Stream(w, r, func(yield func(auth.User) error) error {
		return h.repo.eachUser(r.Context(), page, yield)
	})
}

// delete is DELETE /admin/users/{iin}: the §0.8 "user" cascade in one
// transaction, files removed after the commit.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	iin := chi.URLParam(r, "iin")
	err := jobs.PurgeTx(ctx, h.pool, h.store, h.jobs, func(tx pgx.Tx) (purge.Files, error) {
		u, err := newRepo(tx).lockUserByIIN(ctx, iin)
		if errors.Is(err, errNotFound) {
			return purge.Files{}, apperr.NotFound(msgUserNotFound)
		}
		if err != nil {
			return purge.Files{}, err
		}
		if u.Role == auth.Admin {
			return purge.Files{}, apperr.Forbidden(msgCannotDeleteAdmn)
		}
		return purge.Users(ctx, tx, []int32{u.ID})
	})
	if err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: fmt.Sprintf("Пользователь %s и связанные связи удалены", iin)})
}

// resetPassword is PATCH /admin/users/reset_password; it also lifts the
// login throttle of the IIN (API.md §0.5.4). The answer is JSON null.
func (h *Handler) resetPassword(w http.ResponseWriter, r *http.Request) error {
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	iin, _ := o.Field("user_iin").IIN()
	pw, _ := o.Field("new_password").Str()
	if err := b.Err(); err != nil {
		return err
	}
	ctx := r.Context()
	// Looked up first so an unknown IIN costs no bcrypt.
	if err := h.repo.userExists(ctx, iin); errors.Is(err, errNotFound) {
		return apperr.NotFound(msgUserNotFound)
	} else if err != nil {
		return err
	}
	err = auth.SetPassword(ctx, h.hasher, h.pool, iin, pw, auth.Session{}, errNotFound)
	if errors.Is(err, errNotFound) {
		return apperr.NotFound(msgUserNotFound)
	}
	if err != nil {
		return err
	}
	if err := h.throttle.Reset(ctx, iin); err != nil {
		return err
	}
	return web.OK(w, nil)
}

// UseJobs queues deleted rows' file removals as jobs of e.
func (h *Handler) UseJobs(e *jobs.Engine) { h.jobs = e }

package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/purge"
	"platform/internal/web"
)

// Texts of /admin/users (API.md §4).
const (
	msgIINTaken         = "Пользователь с таким ИИН уже существует"
	msgUserPhoneTaken   = "Номер телефона уже используется"
	msgCannotDeleteAdmn = "Нельзя удалить администратора"
)

// newUser is a validated POST /admin/users body.
type newUser struct {
	IIN      string
	FullName string
	Phone    *string
	Role     auth.Role
	Password string
}

// createUser is POST /admin/users/.
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) error {
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	var nu newUser
	nu.IIN, _ = o.Field("iin").IIN()
	nu.FullName = trimmedStr(o.Field("full_name"), 1, 255)
	phone := o.Field("phone")
	if p, ok := phone.OptStr(); ok && p != nil {
		trimmed := strings.TrimSpace(*p)
		phone.MaxLen(trimmed, 20)
		nu.Phone = optional(trimmed)
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
	case db.IsUniqueViolation(err, uqUserIIN):
		return apperr.BadRequest(msgIINTaken)
	case db.IsUniqueViolation(err, uqUserPhone):
		return apperr.BadRequest(msgUserPhoneTaken)
	case err != nil:
		return err
	}
	return web.OK(w, u)
}

// trimmedStr reads a required string, trimmed, of min to max characters
// (a blank one is too short).
func trimmedStr(v web.Value, minLen, maxLen int) string {
	s, ok := v.Str()
	if !ok {
		return ""
	}
	s = strings.TrimSpace(s)
	if v.MinLen(s, minLen) {
		v.MaxLen(s, maxLen)
	}
	return s
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

// listUsers is GET /admin/users/: every user by id, one query.
func (h *Handler) listUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := h.repo.listUsers(r.Context())
	if err != nil {
		return err
	}
	return web.OK(w, users)
}

// deleteUser is DELETE /admin/users/{iin}: the §0.8 "user" cascade in one
// transaction, files removed after the commit.
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	iin := chi.URLParam(r, "iin")
	err := h.purgeTx(ctx, func(tx pgx.Tx) (purge.Files, error) {
		u, err := NewRepo(tx).lockUserByIIN(ctx, iin)
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
	if _, err := h.repo.userOutByIIN(ctx, iin); errors.Is(err, errNotFound) {
		return apperr.NotFound(msgUserNotFound)
	} else if err != nil {
		return err
	}
	err = h.setPassword(ctx, iin, pw)
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

// listUsers reads every user by id.
func (repo *Repo) listUsers(ctx context.Context) ([]auth.User, error) {
	const q = `SELECT id, iin, full_name, phone, role::text AS role, photo FROM users ORDER BY id`
	rows, err := repo.db.Query(ctx, q)
	return all[auth.User](rows, err, "list users")
}

// userConflicts reports whether the IIN, and the phone when given, are taken.
func (repo *Repo) userConflicts(ctx context.Context, iin string, phone *string) (iinTaken, phoneTaken bool, err error) {
	const q = `
SELECT EXISTS (SELECT 1 FROM users WHERE iin = $1),
       $2::text IS NOT NULL AND EXISTS (SELECT 1 FROM users WHERE phone = $2)`
	if err := repo.db.QueryRow(ctx, q, iin, phone).Scan(&iinTaken, &phoneTaken); err != nil {
		return false, false, fmt.Errorf("admin: user conflicts: %w", err)
	}
	return iinTaken, phoneTaken, nil
}

// insertUser creates a user with the given bcrypt hash.
func (repo *Repo) insertUser(ctx context.Context, nu newUser, hash string) (auth.User, error) {
	const q = `
INSERT INTO users (full_name, iin, role, phone, hashed_password)
VALUES ($1, $2, $3::userrole, $4, $5)
RETURNING id, iin, full_name, phone, role::text AS role, photo`
	rows, err := repo.db.Query(ctx, q, nu.FullName, nu.IIN, string(nu.Role), nu.Phone, hash)
	return one[auth.User](rows, err, "insert user")
}

// lockUserByIIN reads the user with the IIN and locks the row until the
// transaction ends, so a concurrent change cannot slip between the checks
// and the delete.
func (repo *Repo) lockUserByIIN(ctx context.Context, iin string) (auth.User, error) {
	const q = `SELECT id, iin, full_name, phone, role::text AS role, photo FROM users WHERE iin = $1 FOR UPDATE`
	rows, err := repo.db.Query(ctx, q, iin)
	return one[auth.User](rows, err, "lock user")
}

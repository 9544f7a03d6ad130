package profile

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"platform/internal/auth"
	"platform/internal/db"
)

// repo is the SQL of /user, on a pool or inside a transaction.
type repo struct {
	db db.DBTX
}

func newRepo(q db.DBTX) *repo { return &repo{db: q} }

// errNotFound marks a missing row; handlers answer their endpoint's own 404 text.
var errNotFound = errors.New("admin: not found")

// uniquePhone is the unique constraint whose violation is the taken phone's 400.
const uniquePhone = "users_phone_key"

// userOutByIIN reads the UserOut of the IIN.
func (r *repo) userOutByIIN(ctx context.Context, iin string) (userOut, error) {
	const q = `SELECT id, iin, full_name FROM users WHERE iin = $1`
	return db.One[userOut](ctx, r.db, "admin: load user by iin", errNotFound, q, iin)
}

// setPhone sets (or clears) the user's phone; the unique constraint decides
// conflicts, so a concurrent race cannot store one number twice.
func (r *repo) setPhone(ctx context.Context, id int32, phone *string) (auth.User, error) {
	const q = `
UPDATE users SET phone = $2 WHERE id = $1
RETURNING id, iin, full_name, phone, role::text AS role, photo`
	return db.One[auth.User](ctx, r.db, "admin: set phone", errNotFound, q, id, phone)
}

// setPhoto stores the user's new photo and returns the previous one, read
// under the row lock so two uploads cannot both miss each other's file.
func (r *repo) setPhoto(ctx context.Context, id int32, photo string) (auth.User, *string, error) {
	const lock = `SELECT photo FROM users WHERE id = $1 FOR UPDATE`
	var old *string
	if err := r.db.QueryRow(ctx, lock, id).Scan(&old); errors.Is(err, pgx.ErrNoRows) {
		return auth.User{}, nil, errNotFound
	} else if err != nil {
		return auth.User{}, nil, fmt.Errorf("admin: lock user: %w", err)
	}
	const q = `
UPDATE users SET photo = $2 WHERE id = $1
RETURNING id, iin, full_name, phone, role::text AS role, photo`
	u, err := db.One[auth.User](ctx, r.db, "admin: set photo", errNotFound, q, id, photo)
	return u, old, err
}

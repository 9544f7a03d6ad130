package profile

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"platform/internal/admin/internal/shared"
	"platform/internal/auth"
	"platform/internal/db"
)

// repo is the SQL of /user, on a pool or inside a transaction.
type repo struct {
	db db.DBTX
}

func newRepo(q db.DBTX) *repo { return &repo{db: q} }

// userOutByIIN reads the UserOut of the IIN.
func (r *repo) userOutByIIN(ctx context.Context, iin string) (userOut, error) {
	const q = `SELECT id, iin, full_name FROM users WHERE iin = $1`
	rows, err := r.db.Query(ctx, q, iin)
	return shared.One[userOut](rows, err, "load user by iin")
}

// setPhone sets (or clears) the user's phone; the unique constraint decides
// conflicts, so a concurrent race cannot store one number twice.
func (r *repo) setPhone(ctx context.Context, id int32, phone *string) (auth.User, error) {
	const q = `
UPDATE users SET phone = $2 WHERE id = $1
RETURNING id, iin, full_name, phone, role::text AS role, photo`
	rows, err := r.db.Query(ctx, q, id, phone)
	return shared.One[auth.User](rows, err, "set phone")
}

// setPhoto stores the user's new photo and returns the previous one, read
// under the row lock so two uploads cannot both miss each other's file.
func (r *repo) setPhoto(ctx context.Context, id int32, photo string) (auth.User, *string, error) {
	const lock = `SELECT photo FROM users WHERE id = $1 FOR UPDATE`
	var old *string
	if err := r.db.QueryRow(ctx, lock, id).Scan(&old); errors.Is(err, pgx.ErrNoRows) {
		return auth.User{}, nil, shared.ErrNotFound
	} else if err != nil {
		return auth.User{}, nil, fmt.Errorf("admin: lock user: %w", err)
	}
	const q = `
UPDATE users SET photo = $2 WHERE id = $1
RETURNING id, iin, full_name, phone, role::text AS role, photo`
	rows, err := r.db.Query(ctx, q, id, photo)
	u, err := shared.One[auth.User](rows, err, "set photo")
	return u, old, err
}

package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"platform/internal/db"
)

// Repo reads users for authentication.
type Repo struct {
	q db.DBTX
}

// NewRepo returns a Repo on q (a pool or a transaction).
func NewRepo(q db.DBTX) *Repo { return &Repo{q: q} }

// errNoUser marks a missing user inside this package.
var errNoUser = errors.New("auth: user not found")

// UserByIIN loads the user with that IIN, or errNoUser.
func (repo *Repo) UserByIIN(ctx context.Context, iin string) (User, error) {
	const q = `SELECT id, iin, full_name, phone, role::text AS role, photo, hashed_password FROM users WHERE iin = $1`
	rows, err := repo.q.Query(ctx, q, iin)
	if err != nil {
		return User{}, fmt.Errorf("auth: load user: %w", err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User])
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, errNoUser
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: load user: %w", err)
	}
	return u, nil
}

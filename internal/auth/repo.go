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

// SelectUser is the users SELECT list scanUser reads by position; each
// lookup adds its WHERE (exported for loadtest/bench).
const SelectUser = `
SELECT id, iin, full_name, phone, role::text, photo, hashed_password, token_version, must_change_password,
       kept_session, kept_token
FROM users `

// UserByIIN loads the user with that IIN (with its TokenVersion), or errNoUser.
func (repo *Repo) UserByIIN(ctx context.Context, iin string) (User, error) {
	return repo.user(ctx, SelectUser+`WHERE iin = $1`, iin)
}

// UserByID loads the user with that id (with its TokenVersion), or errNoUser.
func (repo *Repo) UserByID(ctx context.Context, id int32) (User, error) {
	return repo.user(ctx, SelectUser+`WHERE id = $1`, id)
}

// user loads one user by the statement q (SelectUser and a WHERE).
func (repo *Repo) user(ctx context.Context, q string, arg any) (User, error) {
	u, err := scanUser(repo.q.QueryRow(ctx, q, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, errNoUser
	}
	if err != nil {
		return User{}, fmt.Errorf("auth: load user: %w", err)
	}
	return u, nil
}

// ReplaceHash stores newHash for the user unless the hash changed since it
// was read as old (a password change meanwhile wins).
func (repo *Repo) ReplaceHash(ctx context.Context, id int32, old, newHash string) error {
	const q = `UPDATE users SET hashed_password = $3 WHERE id = $1 AND hashed_password = $2`
	if _, err := repo.q.Exec(ctx, q, id, old, newHash); err != nil {
		return fmt.Errorf("auth: replace hash: %w", err)
	}
	return nil
}

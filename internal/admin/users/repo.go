package users

import (
	"context"
	"fmt"

	"platform/internal/admin/internal/shared"
	"platform/internal/auth"
	"platform/internal/db"
)

// repo is the SQL of /admin/users, on a pool or inside a transaction.
type repo struct {
	db db.DBTX
}

func newRepo(q db.DBTX) *repo { return &repo{db: q} }

// userExists reports a user with the IIN (shared.ErrNotFound when none).
func (r *repo) userExists(ctx context.Context, iin string) error {
	found, err := shared.Exec(ctx, r.db, "load user by iin", `SELECT 1 FROM users WHERE iin = $1`, iin)
	if err == nil && !found {
		err = shared.ErrNotFound
	}
	return err
}

// listUsers reads every user by id.
func (r *repo) listUsers(ctx context.Context) ([]auth.User, error) {
	const q = `SELECT id, iin, full_name, phone, role::text AS role, photo FROM users ORDER BY id`
	rows, err := r.db.Query(ctx, q)
	return shared.All[auth.User](rows, err, "list users")
}

// userConflicts reports whether the IIN, and the phone when given, are taken.
func (r *repo) userConflicts(ctx context.Context, iin string, phone *string) (iinTaken, phoneTaken bool, err error) {
	const q = `
SELECT EXISTS (SELECT 1 FROM users WHERE iin = $1),
       $2::text IS NOT NULL AND EXISTS (SELECT 1 FROM users WHERE phone = $2)`
	if err := r.db.QueryRow(ctx, q, iin, phone).Scan(&iinTaken, &phoneTaken); err != nil {
		return false, false, fmt.Errorf("admin: user conflicts: %w", err)
	}
	return iinTaken, phoneTaken, nil
}

// insertUser creates a user with the given bcrypt hash.
func (r *repo) insertUser(ctx context.Context, nu newUser, hash string) (auth.User, error) {
	const q = `
INSERT INTO users (full_name, iin, role, phone, hashed_password)
VALUES ($1, $2, $3::userrole, $4, $5)
RETURNING id, iin, full_name, phone, role::text AS role, photo`
	rows, err := r.db.Query(ctx, q, nu.FullName, nu.IIN, string(nu.Role), nu.Phone, hash)
	return shared.One[auth.User](rows, err, "insert user")
}

// lockUserByIIN reads the user with the IIN and locks the row until the
// transaction ends, so a concurrent change cannot slip between the checks
// and the delete.
func (r *repo) lockUserByIIN(ctx context.Context, iin string) (auth.User, error) {
	const q = `SELECT id, iin, full_name, phone, role::text AS role, photo FROM users WHERE iin = $1 FOR UPDATE`
	rows, err := r.db.Query(ctx, q, iin)
	return shared.One[auth.User](rows, err, "lock user")
}

package users

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/web"
)

// repo is the SQL of /admin/users, on a pool or inside a transaction.
type repo struct {
	db db.DBTX
}

func newRepo(q db.DBTX) *repo { return &repo{db: q} }

// errNotFound marks a missing row; handlers answer their endpoint's own 404 text.
var errNotFound = errors.New("admin: not found")

// The unique constraints whose violations become the contract's 400s.
const (
	uniqueIIN   = "ix_users_iin"
	uniquePhone = "users_phone_key"
)

// userExists reports a user with the IIN (errNotFound when none).
func (r *repo) userExists(ctx context.Context, iin string) error {
	_, err := db.One[int32](ctx, r.db, "admin: load user by iin", errNotFound, `SELECT 1 FROM users WHERE iin = $1`, iin)
	return err
}

// eachUser streams the page of users by id to fn: LIMIT/OFFSET in SQL on
// the primary key, rows scanned one at a time, so a page costs the same
// whatever the table's size and no page is ever whole in memory.
func (r *repo) eachUser(ctx context.Context, p web.Page, fn func(auth.User) error) error {
	const q = `SELECT id, iin, full_name, phone, role::text AS role, photo FROM users WHERE id > $3 ORDER BY id LIMIT $1 OFFSET $2`
	rows, err := r.db.Query(ctx, q, p.Limit, p.Offset, p.AfterID)
	if err != nil {
		return fmt.Errorf("admin: list users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		u, err := pgx.RowToStructByName[auth.User](rows)
		if err != nil {
			return fmt.Errorf("admin: list users: %w", err)
		}
		if err := fn(u); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("admin: list users: %w", err)
	}
	return nil
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
	return db.One[auth.User](ctx, r.db, "admin: insert user", errNotFound, q, nu.FullName, nu.IIN, string(nu.Role), nu.Phone, hash)
}

// lockUserByIIN reads the user with the IIN and locks the row until the
// transaction ends, so a concurrent change cannot slip between the checks
// and the delete.
func (r *repo) lockUserByIIN(ctx context.Context, iin string) (auth.User, error) {
	const q = `SELECT id, iin, full_name, phone, role::text AS role, photo FROM users WHERE iin = $1 FOR UPDATE`
	return db.One[auth.User](ctx, r.db, "admin: lock user", errNotFound, q, iin)
}

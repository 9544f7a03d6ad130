package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
)

// Repo is the SQL of the admin domain. It runs on a pool or inside a
// transaction (NewRepo(tx)); it never begins or commits one.
type Repo struct {
	db db.DBTX
}

// NewRepo returns a Repo on q.
func NewRepo(q db.DBTX) *Repo { return &Repo{db: q} }

// errNotFound marks a missing row inside this package; handlers answer
// their endpoint's own 404 text.
var errNotFound = errors.New("admin: not found")

// The unique constraints whose violations become the contract's 400s.
const (
	uqUserIIN   = "ix_users_iin"
	uqUserPhone = "users_phone_key"
	uqGroupName = "groups_name_key"
)

// one collects exactly one row into T, mapping "no row" to errNotFound.
func one[T any](rows pgx.Rows, err error, what string) (T, error) {
	var zero T
	if err != nil {
		return zero, fmt.Errorf("admin: %s: %w", what, err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByNameLax[T])
	if errors.Is(err, pgx.ErrNoRows) {
		return zero, errNotFound
	}
	if err != nil {
		return zero, fmt.Errorf("admin: %s: %w", what, err)
	}
	return v, nil
}

// all collects every row into []T (empty, never nil).
func all[T any](rows pgx.Rows, err error, what string) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("admin: %s: %w", what, err)
	}
	v, err := pgx.CollectRows(rows, pgx.RowToStructByNameLax[T])
	if err != nil {
		return nil, fmt.Errorf("admin: %s: %w", what, err)
	}
	return v, nil
}

// exec runs a statement and reports whether it touched (for a SELECT,
// returned) a row.
func (repo *Repo) exec(ctx context.Context, what, sql string, args ...any) (bool, error) {
	tag, err := repo.db.Exec(ctx, sql, args...)
	if err != nil {
		return false, fmt.Errorf("admin: %s: %w", what, err)
	}
	return tag.RowsAffected() > 0, nil
}

// requireRow runs a query for a row and answers the 404 with the notFound text
// when there is none.
func (repo *Repo) requireRow(ctx context.Context, what, notFound, sql string, args ...any) error {
	ok, err := repo.exec(ctx, what, sql, args...)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFound(notFound)
	}
	return nil
}

// userByID reads a user (without the password hash).
func (repo *Repo) userByID(ctx context.Context, id int32) (auth.User, error) {
	const q = `SELECT id, iin, full_name, phone, role::text AS role, photo FROM users WHERE id = $1`
	rows, err := repo.db.Query(ctx, q, id)
	return one[auth.User](rows, err, "load user")
}

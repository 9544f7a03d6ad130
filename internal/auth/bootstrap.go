package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"platform/internal/db"
)

// BootstrapAdmin describes the admin created at start (API.md §0.1).
type BootstrapAdmin struct {
	IIN, Password, FullName, Phone string
}

// EnsureAdmin creates the bootstrap admin when both IIN and password are set
// and no user has the IIN; an existing user is left untouched whatever its
// role. A phone already taken by someone else is dropped with a warning
// (the original crashed at start).
func EnsureAdmin(ctx context.Context, pool *db.Pool, hasher *Hasher, a BootstrapAdmin, log *slog.Logger) error {
	if a.IIN == "" || a.Password == "" {
		log.Warn("bootstrap admin skipped: ADMIN_IIN or ADMIN_PASSWORD is not set")
		return nil
	}
	_, err := NewRepo(pool).UserByIIN(ctx, a.IIN)
	if err == nil {
		log.Debug("bootstrap admin exists (ADMIN_IIN)")
		return nil
	}
	if !errors.Is(err, errNoUser) {
		return err
	}
	hash, err := hasher.Hash(ctx, a.Password)
	if err != nil {
		return err
	}
	const q = `
INSERT INTO users (full_name, iin, role, phone, hashed_password)
VALUES ($1, $2, 'admin', $3, $4)`
	var phone *string
	if a.Phone != "" {
		phone = &a.Phone
	}
	_, err = pool.Exec(ctx, q, a.FullName, a.IIN, phone, hash)
	if db.IsUniqueViolation(err, "users_phone_key") {
		log.Warn("bootstrap admin phone already belongs to another user; creating the admin without a phone", "phone", a.Phone)
		_, err = pool.Exec(ctx, q, a.FullName, a.IIN, nil, hash)
	}
	if db.IsUniqueViolation(err, "ix_users_iin") {
		return nil // another instance created it meanwhile
	}
	if err != nil {
		return fmt.Errorf("auth: create bootstrap admin: %w", err)
	}
	log.Info("bootstrap admin created (ADMIN_IIN)")
	return nil
}

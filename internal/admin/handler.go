// Package admin serves the account and administration endpoints of API.md
// §3–§6: the caller's own profile (/user), users (/admin/users), groups with
// the Excel import (/admin/groups) and modules with their subjects
// (/admin/modules).
package admin

import (
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/storage"
)

// Handler serves /user, /admin/users, /admin/groups and /admin/modules.
type Handler struct {
	pool     *db.Pool
	repo     *Repo
	hasher   *auth.Hasher
	throttle *auth.Throttle
	store    *storage.Store
}

// NewHandler returns the handler; hasher is the shared bcrypt pool (every
// hash of these endpoints runs in its slots), throttle the login throttle a
// password reset clears.
func NewHandler(pool *db.Pool, hasher *auth.Hasher, throttle *auth.Throttle, store *storage.Store) *Handler {
	return &Handler{pool: pool, repo: NewRepo(pool), hasher: hasher, throttle: throttle, store: store}
}

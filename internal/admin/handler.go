// Package admin is the account and administration domain of API.md §3–§6.
// It owns /user and /admin/*, one sub-package per URL area, each with the
// files of every domain (routes.go, handler.go, repo.go, model.go, tests):
// profile (/user: the caller's own account), users (/admin/users), groups
// (/admin/groups with the Excel import) and modules (/admin/modules). What
// they share lives with its owner: db (rows), web (body readers), jobs
// (purge transaction), storage (upload file field) and auth (passwords).
package admin

import (
	"context"

	"platform/internal/admin/groups"
	"platform/internal/admin/modules"
	"platform/internal/admin/profile"
	"platform/internal/admin/users"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/jobs"
	"platform/internal/metrics"
	"platform/internal/ratelimit"
	"platform/internal/storage"
)

// Handler holds the handlers of admin's sub-packages, one per URL area;
// server/routes.go mounts each one's Routes at its prefix.
type Handler struct {
	Profile *profile.Handler // /user
	Users   *users.Handler   // /admin/users
	Groups  *groups.Handler  // /admin/groups
	Modules *modules.Handler // /admin/modules
}

// Observe has the Excel imports report their progress to m (nil: not
// observed); it returns h for the route table.
func (h *Handler) Observe(m *metrics.Metrics) *Handler {
	h.Groups.Observe(m)
	return h
}

// UseJobs runs the Excel imports and the deletes' file removals on e (River
// jobs); it comes before e.Start. It returns h for the route table.
func (h *Handler) UseJobs(e *jobs.Engine, imports groups.ImportConfig) *Handler {
	h.Groups.UseJobs(e, imports)
	h.Users.UseJobs(e)
	h.Modules.UseJobs(e)
	return h
}

// NewHandler returns the handler; hasher is the shared bcrypt pool (every
// hash of these endpoints runs in its slots), throttle the login throttle (a
// password reset clears it, a password change counts against it), lookups the
// per-user limit of GET /user/by-iin, lifetime the server's (it ends Excel
// imports still running detached).
func NewHandler(pool *db.Pool, hasher *auth.Hasher, throttle *auth.Throttle, store storage.Store, lookups *ratelimit.Keyed, lifetime context.Context) *Handler {
	return &Handler{
		Profile: profile.NewHandler(pool, hasher, throttle, store, lookups),
		Users:   users.NewHandler(pool, hasher, throttle, store),
		Groups:  groups.NewHandler(pool, hasher, store, lifetime),
		Modules: modules.NewHandler(pool, store),
	}
}

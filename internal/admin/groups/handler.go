// Package groups serves /admin/groups (API.md §5): groups, their members,
// the §0.8 delete cascades, and the Excel import (import.go: upload,
// parallel hashing, one transaction; excel.go: the roster of the sheet read
// by internal/xlsx).
package groups

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/catalog"
	"platform/internal/db"
	"platform/internal/jobs"
	"platform/internal/metrics"
	"platform/internal/purge"
	"platform/internal/storage"
	"platform/internal/web"
)

// Texts of /admin/groups (API.md §5).
const (
	msgGroupNotFound = "Группа не найдена"
	msgGroupTaken    = "Группа с таким названием уже существует"
)

// groupNameMax is the size of groups.name.
const groupNameMax = 100

// Handler serves /admin/groups.
type Handler struct {
	pool     *db.Pool
	repo     *repo
	hasher   *auth.Hasher
	store    storage.Store
	lifetime context.Context
	m        *metrics.Metrics // nil: imports not observed
	// jobs runs imports and removes deleted rows' files (UseJobs).
	jobs      *jobs.Engine
	seal      sealer
	unsafeIIN bool
}

// ImportConfig is how imports treat new accounts' passwords.
type ImportConfig struct {
	// Secret derives the key sealing one-time passwords (SECRET_KEY).
	Secret []byte
	// UnsafeIINPasswords gives new accounts the IIN-derived password
	// instead of a random one (UNSAFE_IIN_PASSWORDS; documented as unsafe).
	UnsafeIINPasswords bool
}

// UseJobs runs imports as River jobs of e and queues deleted rows' file
// removals there; it registers the import worker, so it comes before
// e.Start.
func (h *Handler) UseJobs(e *jobs.Engine, cfg ImportConfig) {
	h.jobs = e
	h.seal = newSealer(cfg.Secret)
	h.unsafeIIN = cfg.UnsafeIINPasswords
	if e != nil {
		river.AddWorker(e.Workers(), &importWorker{h: h})
	}
}

// Observe has imports report their progress to m.
func (h *Handler) Observe(m *metrics.Metrics) { h.m = m }

// progress adds n rows at stage to the import metrics, when observed.
func (h *Handler) progress(stage string, n int) {
	if h.m != nil && n > 0 {
		h.m.ImportRows.WithLabelValues(stage).Add(float64(n))
	}
}

// NewHandler returns the handler; hasher is the shared bcrypt pool (an
// import hashes every new user's password in its slots), lifetime the
// server's: its end cancels imports still running detached from their
// request (nil: they end only by themselves).
func NewHandler(pool *db.Pool, hasher *auth.Hasher, store storage.Store, lifetime context.Context) *Handler {
	return &Handler{pool: pool, repo: newRepo(pool), hasher: hasher, store: store, lifetime: lifetime}
}

// create is POST /admin/groups/.
func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	name := o.Field("name").StrMax(groupNameMax)
	desc := o.Field("description").OptStrMax(web.MaxGroupDescription)
	if err := b.Err(); err != nil {
		return err
	}
	g, err := h.repo.insertGroup(r.Context(), name, desc)
	if db.IsUniqueViolation(err, uniqueGroupName) {
		return apperr.BadRequest(msgGroupTaken)
	}
	if err != nil {
		return err
	}
	return web.OK(w, g)
}

// list is GET /admin/groups/: one query, the page cut in SQL.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	page, pageErr := web.ParseIDPage(r)
	if pageErr != nil {
		return pageErr
	}
	groups, err := h.repo.listGroups(r.Context(), page)
	if err != nil {
		return err
	}
	return web.List(w, web.FullPage, groups)
}

// get is GET /admin/groups/{group_id}.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	g, err := h.pathGroup(r)
	if err != nil {
		return err
	}
	return web.OK(w, g)
}

// pathGroup reads the group named by the path (422 for a bad id, 404 when missing).
func (h *Handler) pathGroup(r *http.Request) (catalog.Group, error) {
	id, err := web.PathID(r, "group_id")
	if err != nil {
		return catalog.Group{}, err
	}
	return groupOr404(h.repo.groupByID(r.Context(), id, ""))
}

// groupOr404 maps a missing group to the endpoint's 404.
func groupOr404(g catalog.Group, err error) (catalog.Group, error) {
	if errors.Is(err, errNotFound) {
		return catalog.Group{}, apperr.NotFound(msgGroupNotFound)
	}
	return g, err
}

// addUsers is POST /admin/groups/{group_id}/users. The body is a JSON
// array of user ids (the original's form) or {"user_ids": […]}; unknown ids
// and existing members are ignored.
func (h *Handler) addUsers(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "group_id")
	if err != nil {
		return err
	}
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	list := b.Root()
	if list.IsObject() {
		list = list.Object().Field("user_ids")
	}
	items, _ := list.List()
	ids := make([]int32, 0, len(items))
	for _, it := range items {
		if n, ok := it.Int(); ok {
			ids = append(ids, n)
		}
	}
	if err := b.Err(); err != nil {
		return err
	}
	ctx := r.Context()
	var g catalog.Group
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		repo := newRepo(tx)
		// The share lock keeps a concurrent group delete from committing
		// between the check and the links (it would then fail on them).
		if g, err = groupOr404(repo.groupByID(ctx, id, "FOR SHARE")); err != nil {
			return err
		}
		return repo.linkUsers(ctx, id, ids)
	})
	if err != nil {
		return err
	}
	return web.OK(w, g)
}

// members is GET /admin/groups/{group_id}/users: two queries.
func (h *Handler) members(w http.ResponseWriter, r *http.Request) error {
	page, pageErr := web.ParsePage(r)
	if pageErr != nil {
		return pageErr
	}
	g, err := h.pathGroup(r)
	if err != nil {
		return err
	}
	users, err := h.repo.groupMembers(r.Context(), g.ID)
	if err != nil {
		return err
	}
	return web.List(w, page, users)
}

// removeUser is DELETE /admin/groups/{group_id}/users/{user_id}; a
// non-member is a no-op.
func (h *Handler) removeUser(w http.ResponseWriter, r *http.Request) error {
	gid, err := web.PathID(r, "group_id")
	if err != nil {
		return err
	}
	uid, err := web.PathID(r, "user_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	g, err := groupOr404(h.repo.groupByID(ctx, gid, ""))
	if err != nil {
		return err
	}
	if err := h.repo.unlinkUser(ctx, gid, uid); err != nil {
		return err
	}
	return web.OK(w, g)
}

// delete is DELETE /admin/groups/{group_id}: the users stay.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	g, _, err := h.purgeGroup(r, false)
	if err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: fmt.Sprintf("Группа '%s' удалена. Пользователи остались в системе.", g.Name)})
}

// deleteWithUsers is DELETE /admin/groups/{group_id}/with-users: every
// member but admins is deleted as a user (even when also in other groups,
// as the original), then the group.
func (h *Handler) deleteWithUsers(w http.ResponseWriter, r *http.Request) error {
	g, n, err := h.purgeGroup(r, true)
	if err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: fmt.Sprintf(
		"Группа '%s' удалена. Удалено пользователей: %d. Админы сохранены.", g.Name, n)})
}

// purgeGroup deletes the path's group (and, withUsers, its non-admin
// members) in one transaction, then removes the members' files. It returns
// the group and the number of users deleted.
func (h *Handler) purgeGroup(r *http.Request, withUsers bool) (catalog.Group, int, error) {
	id, err := web.PathID(r, "group_id")
	if err != nil {
		return catalog.Group{}, 0, err
	}
	ctx := r.Context()
	var (
		g catalog.Group
		n int
	)
	err = jobs.PurgeTx(ctx, h.pool, h.store, h.jobs, func(tx pgx.Tx) (purge.Files, error) {
		repo := newRepo(tx)
		// Locked first: concurrent member additions wait, then find no group.
		var err error
		if g, err = groupOr404(repo.groupByID(ctx, id, "FOR UPDATE")); err != nil {
			return purge.Files{}, err
		}
		var files purge.Files
		if withUsers {
			ids, err := repo.memberIDs(ctx, id, auth.Admin)
			if err != nil {
				return purge.Files{}, err
			}
			if files, err = purge.Users(ctx, tx, ids); err != nil {
				return purge.Files{}, err
			}
			n = len(ids)
		}
		return files, purge.Groups(ctx, tx, []int32{id})
	})
	if err != nil {
		return catalog.Group{}, 0, err
	}
	return g, n, nil
}

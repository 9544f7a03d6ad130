package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/catalog"
	"platform/internal/db"
	"platform/internal/purge"
	"platform/internal/web"
)

// Texts of /admin/groups (API.md §5).
const (
	msgGroupNotFound = "Группа не найдена"
	msgGroupTaken    = "Группа с таким названием уже существует"
)

// groupNameMax is the size of groups.name.
const groupNameMax = 100

// createGroup is POST /admin/groups/.
func (h *Handler) createGroup(w http.ResponseWriter, r *http.Request) error {
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	name := strMax(o.Field("name"), groupNameMax)
	desc, _ := o.Field("description").OptStr()
	if err := b.Err(); err != nil {
		return err
	}
	g, err := h.repo.insertGroup(r.Context(), name, desc)
	if db.IsUniqueViolation(err, uqGroupName) {
		return apperr.BadRequest(msgGroupTaken)
	}
	if err != nil {
		return err
	}
	return web.OK(w, g)
}

// listGroups is GET /admin/groups/: one query.
func (h *Handler) listGroups(w http.ResponseWriter, r *http.Request) error {
	groups, err := h.repo.listGroups(r.Context())
	if err != nil {
		return err
	}
	return web.OK(w, groups)
}

// getGroup is GET /admin/groups/{group_id}.
func (h *Handler) getGroup(w http.ResponseWriter, r *http.Request) error {
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

// addGroupUsers is POST /admin/groups/{group_id}/users. The body is a JSON
// array of user ids (the original's form) or {"user_ids": […]}; unknown ids
// and existing members are ignored.
func (h *Handler) addGroupUsers(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "group_id")
	if err != nil {
		return err
	}
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	list := b.Root()
	if m, isObject := list.Raw().(map[string]any); isObject && m != nil {
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
		repo := NewRepo(tx)
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

// groupUsers is GET /admin/groups/{group_id}/users: two queries.
func (h *Handler) groupUsers(w http.ResponseWriter, r *http.Request) error {
	g, err := h.pathGroup(r)
	if err != nil {
		return err
	}
	users, err := h.repo.groupMembers(r.Context(), g.ID)
	if err != nil {
		return err
	}
	return web.OK(w, users)
}

// removeGroupUser is DELETE /admin/groups/{group_id}/users/{user_id}; a
// non-member is a no-op.
func (h *Handler) removeGroupUser(w http.ResponseWriter, r *http.Request) error {
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

// deleteGroup is DELETE /admin/groups/{group_id}: the users stay.
func (h *Handler) deleteGroup(w http.ResponseWriter, r *http.Request) error {
	g, _, err := h.purgeGroup(r, false)
	if err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: fmt.Sprintf("Группа '%s' удалена. Пользователи остались в системе.", g.Name)})
}

// deleteGroupWithUsers is DELETE /admin/groups/{group_id}/with-users: every
// member but admins is deleted as a user (even when also in other groups,
// as the original), then the group.
func (h *Handler) deleteGroupWithUsers(w http.ResponseWriter, r *http.Request) error {
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
	err = h.purgeTx(ctx, func(tx pgx.Tx) (purge.Files, error) {
		repo := NewRepo(tx)
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

// insertGroup creates a group.
func (repo *Repo) insertGroup(ctx context.Context, name string, desc *string) (catalog.Group, error) {
	const q = `INSERT INTO groups (name, description) VALUES ($1, $2) RETURNING id, name, description`
	rows, err := repo.db.Query(ctx, q, name, desc)
	return one[catalog.Group](rows, err, "insert group")
}

// listGroups reads every group by id.
func (repo *Repo) listGroups(ctx context.Context) ([]catalog.Group, error) {
	const q = `SELECT id, name, description FROM groups ORDER BY id`
	rows, err := repo.db.Query(ctx, q)
	return all[catalog.Group](rows, err, "list groups")
}

// groupByID reads a group; lock is "", "FOR SHARE" or "FOR UPDATE" (a
// constant chosen by the caller, never input).
func (repo *Repo) groupByID(ctx context.Context, id int32, lock string) (catalog.Group, error) {
	q := `SELECT id, name, description FROM groups WHERE id = $1 ` + lock
	rows, err := repo.db.Query(ctx, q, id)
	return one[catalog.Group](rows, err, "load group")
}

// linkUsers adds the existing users among ids to the group; existing links
// and unknown ids are skipped. FOR KEY SHARE makes the insert wait for a
// concurrent delete of one of the users and then skip it, instead of failing
// on the foreign key.
func (repo *Repo) linkUsers(ctx context.Context, groupID int32, ids []int32) error {
	const q = `
INSERT INTO user_group (user_id, group_id)
SELECT u.id, $1 FROM users u WHERE u.id = ANY($2) FOR KEY SHARE
ON CONFLICT DO NOTHING`
	_, err := repo.exec(ctx, "link users", q, groupID, ids)
	return err
}

// unlinkUser removes a membership (a no-op for a non-member).
func (repo *Repo) unlinkUser(ctx context.Context, groupID, userID int32) error {
	_, err := repo.exec(ctx, "unlink user", `DELETE FROM user_group WHERE group_id = $1 AND user_id = $2`, groupID, userID)
	return err
}

// groupMembers reads the group's users by id.
func (repo *Repo) groupMembers(ctx context.Context, groupID int32) ([]auth.User, error) {
	const q = `
SELECT u.id, u.iin, u.full_name, u.phone, u.role::text AS role, u.photo
FROM users u JOIN user_group ug ON ug.user_id = u.id
WHERE ug.group_id = $1
ORDER BY u.id`
	rows, err := repo.db.Query(ctx, q, groupID)
	return all[auth.User](rows, err, "group members")
}

// memberIDs reads the ids of the group's members whose role is not except.
func (repo *Repo) memberIDs(ctx context.Context, groupID int32, except auth.Role) ([]int32, error) {
	const q = `
SELECT u.id FROM users u JOIN user_group ug ON ug.user_id = u.id
WHERE ug.group_id = $1 AND u.role::text <> $2
ORDER BY u.id`
	rows, err := repo.db.Query(ctx, q, groupID, string(except))
	if err != nil {
		return nil, fmt.Errorf("admin: member ids: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("admin: member ids: %w", err)
	}
	return ids, nil
}

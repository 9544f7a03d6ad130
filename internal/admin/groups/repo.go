package groups

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"platform/internal/auth"
	"platform/internal/catalog"
	"platform/internal/db"
	"platform/internal/web"
)

// repo is the SQL of /admin/groups, on a pool or inside a transaction.
type repo struct {
	db db.DBTX
}

func newRepo(q db.DBTX) *repo { return &repo{db: q} }

// errNotFound marks a missing row; handlers answer their endpoint's own 404 text.
var errNotFound = errors.New("admin: not found")

// uniqueGroupName is the unique constraint whose violation is the taken name's 400.
const uniqueGroupName = "groups_name_key"

// insertGroup creates a group.
func (r *repo) insertGroup(ctx context.Context, name string, desc *string) (catalog.Group, error) {
	const q = `INSERT INTO groups (name, description) VALUES ($1, $2) RETURNING id, name, description`
	return db.One[catalog.Group](ctx, r.db, "admin: insert group", errNotFound, q, name, desc)
}

// listGroups reads the page of groups by id (paged in SQL).
func (r *repo) listGroups(ctx context.Context, p web.Page) ([]catalog.Group, error) {
	const q = `SELECT id, name, description FROM groups WHERE id > $3 ORDER BY id LIMIT $1 OFFSET $2`
	return db.All[catalog.Group](ctx, r.db, "admin: list groups", q, p.Limit, p.Offset, p.AfterID)
}

// groupByID reads a group; lock is "", "FOR SHARE" or "FOR UPDATE" (a
// constant chosen by the caller, never input).
func (r *repo) groupByID(ctx context.Context, id int32, lock string) (catalog.Group, error) {
	q := `SELECT id, name, description FROM groups WHERE id = $1 ` + lock
	return db.One[catalog.Group](ctx, r.db, "admin: load group", errNotFound, q, id)
}

// linkUsers adds the existing users among ids to the group; existing links
// and unknown ids are skipped. FOR KEY SHARE makes the insert wait for a
// concurrent delete of one of the users and then skip it, instead of failing
// on the foreign key.
func (r *repo) linkUsers(ctx context.Context, groupID int32, ids []int32) error {
	const q = `
INSERT INTO user_group (user_id, group_id)
SELECT u.id, $1 FROM users u WHERE u.id = ANY($2) FOR KEY SHARE
ON CONFLICT DO NOTHING`
	if _, err := r.db.Exec(ctx, q, groupID, ids); err != nil {
		return fmt.Errorf("admin: link users: %w", err)
	}
	return nil
}

// unlinkUser removes a membership (a no-op for a non-member).
func (r *repo) unlinkUser(ctx context.Context, groupID, userID int32) error {
	if _, err := r.db.Exec(ctx, `DELETE FROM user_group WHERE group_id = $1 AND user_id = $2`, groupID, userID); err != nil {
		return fmt.Errorf("admin: unlink user: %w", err)
	}
	return nil
}

// groupMembers reads the group's users by id.
func (r *repo) groupMembers(ctx context.Context, groupID int32) ([]auth.User, error) {
	const q = `
SELECT u.id, u.iin, u.full_name, u.phone, u.role::text AS role, u.photo
FROM users u JOIN user_group ug ON ug.user_id = u.id
WHERE ug.group_id = $1
ORDER BY u.id`
	return db.All[auth.User](ctx, r.db, "admin: group members", q, groupID)
}

// memberIDs reads the ids of the group's members whose role is not except.
func (r *repo) memberIDs(ctx context.Context, groupID int32, except auth.Role) ([]int32, error) {
	const q = `
SELECT u.id FROM users u JOIN user_group ug ON ug.user_id = u.id
WHERE ug.group_id = $1 AND u.role::text <> $2
ORDER BY u.id`
	ids, err := db.All[int32](ctx, r.db, "admin: member ids", q, groupID, string(except))
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// existingIINs is the set of the IINs that already belong to users.
func (r *repo) existingIINs(ctx context.Context, iins []string) (map[string]bool, error) {
	const q = `SELECT iin FROM users WHERE iin = ANY($1)`
	taken, err := db.All[string](ctx, r.db, "admin: existing iins", q, iins)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(taken))
	for _, iin := range taken {
		out[iin] = true
	}
	return out, nil
}

// importRoster writes an import inside the caller's transaction in a fixed
// number of statements: the group found or created (race-safe through its
// unique name), the new users (an IIN created meanwhile by someone else is
// taken as existing), and the memberships. It fills res and returns the
// IINs of the users it created.
func (r *repo) importRoster(ctx context.Context, ros roster, fresh []rosterRow, hashes []string, res *importResult) (map[string]bool, error) {
	*res = importResult{GroupName: ros.GroupName, Skipped: len(ros.Errors), Errors: ros.Errors}
	created, err := r.findOrCreateGroup(ctx, ros.GroupName, ros.GroupDesc, &res.GroupID)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(fresh))
	iins := make([]string, len(fresh))
	for i, row := range fresh {
		names[i], iins[i] = row.Name, row.IIN
	}
	const insertUsers = `
INSERT INTO users (full_name, iin, role, hashed_password, must_change_password)
SELECT n, i, 'student', p, true FROM unnest($1::text[], $2::text[], $3::text[]) AS t(n, i, p)
ON CONFLICT (iin) DO NOTHING
RETURNING iin`
	inserted, err := db.All[string](ctx, r.db, "admin: import users", insertUsers, names, iins, hashes)
	if err != nil {
		return nil, err
	}
	made := make(map[string]bool, len(inserted))
	for _, iin := range inserted {
		made[iin] = true
	}
	res.Created = len(inserted)
	listed := iinsOf(ros.Rows)
	const link = `
INSERT INTO user_group (user_id, group_id)
SELECT u.id, $2 FROM unnest($1::text[]) AS t(iin) JOIN users u ON u.iin = t.iin
ON CONFLICT DO NOTHING`
	if _, err := r.db.Exec(ctx, link, listed, res.GroupID); err != nil {
		return nil, fmt.Errorf("admin: import links: %w", err)
	}
	const linked = `SELECT count(*) FROM users WHERE iin = ANY($1)`
	var n int
	if err := r.db.QueryRow(ctx, linked, listed).Scan(&n); err != nil {
		return nil, fmt.Errorf("admin: import count: %w", err)
	}
	res.Existing = n - res.Created
	action := "Обновлена"
	if created {
		action = "Создана"
	}
	res.Message = fmt.Sprintf("%s группа '%s' с %d пользователями.", action, ros.GroupName, n)
	return made, nil
}

// findOrCreateGroup finds the group by exact name or creates it, safe
// against a concurrent import of the same name; the row stays share-locked
// so a concurrent delete cannot remove it before the links commit.
func (r *repo) findOrCreateGroup(ctx context.Context, name string, desc *string, id *int32) (created bool, err error) {
	const insert = `
INSERT INTO groups (name, description) VALUES ($1, $2)
ON CONFLICT (name) DO NOTHING
RETURNING id`
	err = r.db.QueryRow(ctx, insert, name, desc).Scan(id)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("admin: import group: %w", err)
	}
	const find = `SELECT id FROM groups WHERE name = $1 FOR SHARE`
	if err := r.db.QueryRow(ctx, find, name).Scan(id); err != nil {
		return false, fmt.Errorf("admin: import group: %w", err)
	}
	return false, nil
}

// startImport records a new queued import job and returns its id. The file
// name is cut to the column's 255 characters.
func (r *repo) startImport(ctx context.Context, fileName string, rows int) (int32, error) {
	if n := []rune(fileName); len(n) > 255 {
		fileName = string(n[:255])
	}
	const q = `
INSERT INTO import_jobs (status, file_name, row_count, started_at)
VALUES ('queued', $1, $2, now() AT TIME ZONE 'UTC') RETURNING id`
	var id int32
	if err := r.db.QueryRow(ctx, q, fileName, rows).Scan(&id); err != nil {
		return 0, fmt.Errorf("admin: start import: %w", err)
	}
	return id, nil
}

// setImportJob records the River job that runs import id.
func (r *repo) setImportJob(ctx context.Context, id int32, jobID int64) error {
	if _, err := r.db.Exec(ctx, `UPDATE import_jobs SET job_id = $2 WHERE id = $1`, id, jobID); err != nil {
		return fmt.Errorf("admin: set import job: %w", err)
	}
	return nil
}

// claimImport marks import id running for the given attempt; false when it
// is already finished (done or failed).
func (r *repo) claimImport(ctx context.Context, id int32, attempt int) (bool, error) {
	const q = `
UPDATE import_jobs SET status = 'running', attempt = $2
WHERE id = $1 AND status IN ('queued', 'running')`
	tag, err := r.db.Exec(ctx, q, id, attempt)
	if err != nil {
		return false, fmt.Errorf("admin: claim import: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// lockRunningImport locks import id's row for the writing transaction;
// errAlreadyFinished when another attempt finished it meanwhile.
func (r *repo) lockRunningImport(ctx context.Context, id int32) error {
	var status string
	if err := r.db.QueryRow(ctx, `SELECT status FROM import_jobs WHERE id = $1 FOR UPDATE`, id).Scan(&status); err != nil {
		return fmt.Errorf("admin: lock import: %w", err)
	}
	if status == statusDone || status == statusFailed {
		return errAlreadyFinished
	}
	return nil
}

// completeImport records a done import with its result and the sealed
// one-time passwords (nil: none), kept for credentialsTTL.
func (r *repo) completeImport(ctx context.Context, id int32, res *importResult, sealed []byte) error {
	body, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("admin: encode import result: %w", err)
	}
	const q = `
UPDATE import_jobs SET status = 'done', result = $2, error = NULL, finished_at = now() AT TIME ZONE 'UTC',
    credentials = $3,
    credentials_until = CASE WHEN $3::bytea IS NULL THEN NULL ELSE now() AT TIME ZONE 'UTC' + make_interval(secs => $4) END
WHERE id = $1`
	if _, err := r.db.Exec(ctx, q, id, body, sealed, credentialsTTL.Seconds()); err != nil {
		return fmt.Errorf("admin: complete import: %w", err)
	}
	return nil
}

// requeueImport records a failed attempt that will be retried.
func (r *repo) requeueImport(ctx context.Context, id int32, detail string) error {
	const q = `UPDATE import_jobs SET status = 'queued', error = $2 WHERE id = $1 AND status IN ('queued', 'running')`
	if _, err := r.db.Exec(ctx, q, id, detail); err != nil {
		return fmt.Errorf("admin: requeue import: %w", err)
	}
	return nil
}

// credentials reads import id's sealed one-time passwords while kept (nil
// once wiped or expired); wipe removes them in the same statement.
func (r *repo) credentials(ctx context.Context, id int32, wipe bool) ([]byte, error) {
	q := `
SELECT credentials FROM import_jobs
WHERE id = $1 AND credentials IS NOT NULL AND credentials_until > now() AT TIME ZONE 'UTC'`
	if wipe {
		q = `
WITH old AS (SELECT id, credentials, credentials_until FROM import_jobs WHERE id = $1 FOR UPDATE)
UPDATE import_jobs j SET credentials = NULL, credentials_until = NULL FROM old
WHERE j.id = old.id AND old.credentials IS NOT NULL AND old.credentials_until > now() AT TIME ZONE 'UTC'
RETURNING old.credentials`
	}
	var sealed []byte
	err := r.db.QueryRow(ctx, q, id).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("admin: import credentials: %w", err)
	}
	return sealed, nil
}

// finishImport records an import's outcome: its result body or its error detail.
func (r *repo) finishImport(ctx context.Context, id int32, status string, res *importResult, detail *string) error {
	const q = `
UPDATE import_jobs SET status = $2, result = $3, error = $4, finished_at = now() AT TIME ZONE 'UTC'
WHERE id = $1 AND status IN ('queued', 'running')`
	var body []byte
	if res != nil {
		var err error
		if body, err = json.Marshal(res); err != nil {
			return fmt.Errorf("admin: encode import result: %w", err)
		}
	}
	if _, err := r.db.Exec(ctx, q, id, status, body, detail); err != nil {
		return fmt.Errorf("admin: finish import: %w", err)
	}
	return nil
}

// importSelect reads import jobs with their River job: an unfinished
// import whose job River gave up on (discarded after its last attempt,
// e.g. rescued from a dead instance once too often, or cancelled) is
// failed; one whose job waits for a retry is queued.
const importSelect = `
SELECT j.id,
    CASE WHEN j.status IN ('done', 'failed') THEN j.status
         WHEN r.state IN ('discarded', 'cancelled') THEN 'failed'
         WHEN r.state = 'running' THEN 'running'
         WHEN r.state IN ('available', 'scheduled', 'retryable', 'pending') THEN 'queued'
         ELSE j.status END AS status,
    j.file_name, j.row_count, j.result,
    CASE WHEN j.status NOT IN ('done', 'failed') AND r.state IN ('discarded', 'cancelled')
         THEN coalesce(j.error, '` + msgImportAbandoned + `') ELSE j.error END AS error,
    j.started_at,
    coalesce(j.finished_at, CASE WHEN r.state IN ('discarded', 'cancelled') THEN r.finalized_at AT TIME ZONE 'UTC' END) AS finished_at,
    greatest(j.attempt, coalesce(r.attempt, 0)) AS attempt
FROM import_jobs j LEFT JOIN river_job r ON r.id = j.job_id`

// importJob reads one import job.
func (r *repo) importJob(ctx context.Context, id int32) (importJobOut, error) {
	return db.One[importJobOut](ctx, r.db, "admin: load import", errNotFound, importSelect+` WHERE j.id = $1`, id)
}

// recentImports reads the newest import jobs (at most n), by id.
func (r *repo) recentImports(ctx context.Context, n int) ([]importJobOut, error) {
	q := importSelect + ` WHERE j.id IN (SELECT id FROM import_jobs ORDER BY id DESC LIMIT $1) ORDER BY j.id`
	return db.All[importJobOut](ctx, r.db, "admin: list imports", q, n)
}

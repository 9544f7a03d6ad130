package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/storage"
	"platform/internal/web"
)

// Excel import rules (API.md §0.7, §5 upload-excel).
const (
	excelLimit       = 10 * storage.MiB
	msgExcelTooLarge = "Файл слишком большой (до 10 МБ)"
	msgXLS           = "Формат .xls не поддерживается. Сохраните файл в формате .xlsx"
	// importProgressEvery is how often (in rows) a large import logs progress.
	importProgressEvery = 500
)

// importGroup is POST /admin/groups/upload-excel: the upload goes to a
// temporary file (the streaming parse of xlsx.go reads it from there), bad
// rows are reported, new users' passwords are hashed before the transaction
// within the bcrypt slots, then the group, users and links are written in
// one transaction.
func (h *Handler) importGroup(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	up, err := storage.NewUpload(r, excelLimit, msgExcelTooLarge)
	if err != nil {
		return err
	}
	part, err := filePart(up, "file")
	if err != nil {
		return err
	}
	ext, err := storage.Extension(part.ClientName())
	if err != nil {
		return err
	}
	if ext == ".xls" {
		return apperr.BadRequest(msgXLS)
	}
	if err := storage.CheckAllowed(ext, ".xlsx", ".xlsm"); err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "import-*"+ext)
	if err != nil {
		return fmt.Errorf("admin: import temp file: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	size, err := up.CopyTo(tmp, part, excelLimit)
	if err != nil {
		return err
	}

	log := web.Logger(ctx)
	start := time.Now()
	ros, err := parseRoster(tmp, size, importProgressEvery, func(n int) {
		log.Info("excel import: rows read", "rows", n)
	})
	if err != nil {
		return err
	}
	existing, err := h.repo.existingIINs(ctx, iinsOf(ros.Rows))
	if err != nil {
		return err
	}
	var fresh []rosterRow
	for _, row := range ros.Rows {
		if !existing[row.IIN] {
			fresh = append(fresh, row)
		}
	}
	hashes, err := h.hashDefaults(ctx, fresh)
	if err != nil {
		return err
	}

	var res importResult
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = NewRepo(tx).importRoster(ctx, ros, fresh, hashes)
		return err
	})
	if err != nil {
		return err
	}
	log.Info("excel import done", "group_id", res.GroupID, "created", res.Created,
		"existing", res.Existing, "skipped", res.Skipped, "duration_ms", time.Since(start).Milliseconds())
	return web.OK(w, res)
}

// iinsOf lists the rows' IINs.
func iinsOf(rows []rosterRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.IIN
	}
	return out
}

// hashDefaults hashes the default password of each new user (first 3 +
// last 3 digits of the IIN) in parallel, with as many workers as the shared
// bcrypt pool has slots (more would only queue there); no database
// connection is held meanwhile. The first failure cancels the rest.
func (h *Handler) hashDefaults(ctx context.Context, rows []rosterRow) ([]string, error) {
	hashes := make([]string, len(rows))
	if len(rows) == 0 {
		return hashes, nil
	}
	log := web.Logger(ctx)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		done atomic.Int64
	)
	for range min(h.hasher.Slots(), len(rows)) {
		wg.Go(func() {
			for i := range next {
				iin := rows[i].IIN
				hash, err := h.hasher.Hash(ctx, iin[:3]+iin[len(iin)-3:])
				if err != nil {
					cancel(err)
					continue
				}
				hashes[i] = hash
				if n := done.Add(1); n%importProgressEvery == 0 {
					log.Info("excel import: passwords hashed", "done", n, "total", len(rows))
				}
			}
		})
	}
feed:
	for i := range rows {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return hashes, nil
}

// existingIINs is the set of the IINs that already belong to users.
func (repo *Repo) existingIINs(ctx context.Context, iins []string) (map[string]bool, error) {
	const q = `SELECT iin FROM users WHERE iin = ANY($1)`
	rows, err := repo.db.Query(ctx, q, iins)
	if err != nil {
		return nil, fmt.Errorf("admin: existing iins: %w", err)
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("admin: existing iins: %w", err)
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
// taken as existing), and the memberships.
func (repo *Repo) importRoster(ctx context.Context, ros roster, fresh []rosterRow, hashes []string) (importResult, error) {
	res := importResult{GroupName: ros.GroupName, Skipped: len(ros.Errors), Errors: ros.Errors}
	created, err := repo.findOrCreateGroup(ctx, ros.GroupName, ros.GroupDesc, &res.GroupID)
	if err != nil {
		return importResult{}, err
	}
	names := make([]string, len(fresh))
	iins := make([]string, len(fresh))
	for i, row := range fresh {
		names[i], iins[i] = row.Name, row.IIN
	}
	const insertUsers = `
INSERT INTO users (full_name, iin, role, hashed_password)
SELECT n, i, 'student', p FROM unnest($1::text[], $2::text[], $3::text[]) AS t(n, i, p)
ON CONFLICT (iin) DO NOTHING`
	tag, err := repo.db.Exec(ctx, insertUsers, names, iins, hashes)
	if err != nil {
		return importResult{}, fmt.Errorf("admin: import users: %w", err)
	}
	res.Created = int(tag.RowsAffected())
	listed := iinsOf(ros.Rows)
	const link = `
INSERT INTO user_group (user_id, group_id)
SELECT id, $2 FROM users WHERE iin = ANY($1)
ON CONFLICT DO NOTHING`
	if _, err := repo.db.Exec(ctx, link, listed, res.GroupID); err != nil {
		return importResult{}, fmt.Errorf("admin: import links: %w", err)
	}
	const linked = `SELECT count(*) FROM users WHERE iin = ANY($1)`
	var n int
	if err := repo.db.QueryRow(ctx, linked, listed).Scan(&n); err != nil {
		return importResult{}, fmt.Errorf("admin: import count: %w", err)
	}
	res.Existing = n - res.Created
	action := "Обновлена"
	if created {
		action = "Создана"
	}
	res.Message = fmt.Sprintf("%s группа '%s' с %d пользователями.", action, ros.GroupName, n)
	return res, nil
}

// findOrCreateGroup finds the group by exact name or creates it, safe
// against a concurrent import of the same name; the row stays share-locked
// so a concurrent delete cannot remove it before the links commit.
func (repo *Repo) findOrCreateGroup(ctx context.Context, name string, desc *string, id *int32) (created bool, err error) {
	const insert = `
INSERT INTO groups (name, description) VALUES ($1, $2)
ON CONFLICT (name) DO NOTHING
RETURNING id`
	err = repo.db.QueryRow(ctx, insert, name, desc).Scan(id)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("admin: import group: %w", err)
	}
	const find = `SELECT id FROM groups WHERE name = $1 FOR SHARE`
	if err := repo.db.QueryRow(ctx, find, name).Scan(id); err != nil {
		return false, fmt.Errorf("admin: import group: %w", err)
	}
	return false, nil
}

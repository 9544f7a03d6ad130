package groups

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/internal/admin/internal/shared"
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
// temporary file (the streaming parse of internal/xlsx reads it from there), bad
// rows are reported, new users' passwords are hashed before the transaction
// within the bcrypt slots, then the group, users and links are written in
// one transaction.
func (h *Handler) importGroup(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	up, err := storage.NewUpload(r, excelLimit, msgExcelTooLarge)
	if err != nil {
		return err
	}
	part, err := shared.FilePart(up, "file")
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
	if h.m != nil {
		h.m.ImportsRunning.Inc()
		defer h.m.ImportsRunning.Dec()
	}
	read := 0
	ros, err := parseRoster(tmp, size, importProgressEvery, func(n int) {
		log.Info("excel import: rows read", "rows", n)
		h.progress("read", n-read)
		read = n
	})
	if err != nil {
		return err
	}
	h.progress("read", len(ros.Rows)-read)
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
		res, err = newRepo(tx).importRoster(ctx, ros, fresh, hashes)
		return err
	})
	if err != nil {
		return err
	}
	h.progress("created", res.Created)
	h.progress("existing", res.Existing)
	h.progress("skipped", res.Skipped)
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
				h.progress("hashed", 1)
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

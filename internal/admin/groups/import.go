package groups

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

	"platform/internal/admin/internal/shared"
	"platform/internal/apperr"
	"platform/internal/auth"
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
	msgImportNotFound   = "Импорт не найден"
	msgInternal         = "Internal Server Error"
	msgImportStopped    = "Импорт прерван остановкой сервера"
)

// importGroup is POST /admin/groups/upload-excel: the upload goes to a
// temporary file (the streaming parse of internal/xlsx reads it from there)
// and bad rows are reported, all within the request. The rest — new users'
// default passwords hashed as bulk work, then the group, users and links in
// one transaction — runs as an import job detached from the request (its
// values kept, its cancellation not; the server's lifetime ends it), so a
// client or proxy that gives up does not roll it back. The request waits for
// the job while it lives and answers the job's outcome; the outcome is also
// recorded in import_jobs for GET /admin/groups/imports/{import_id}.
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
	if err := web.CheckText([]any{"body", "file"}, part.ClientName()); err != nil {
		return err // the name is stored with the import (issue 21: was a 500, SQLSTATE 22021)
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
	id, err := h.repo.startImport(ctx, part.ClientName(), len(ros.Rows))
	if err != nil {
		return err
	}
	jctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := func() bool { return false }
	if h.lifetime != nil {
		stop = context.AfterFunc(h.lifetime, cancel)
	}
	done := make(chan struct{})
	var (
		res  importResult
		jerr error
	)
	go func() {
		defer close(done)
		defer cancel()
		defer stop()
		if h.m != nil {
			h.m.ImportsRunning.Inc()
			defer h.m.ImportsRunning.Dec()
		}
		res, jerr = h.runImport(jctx, id, ros)
		if jerr == nil {
			h.progress("created", res.Created)
			h.progress("existing", res.Existing)
			h.progress("skipped", res.Skipped)
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		log.Warn("excel import: client left; the import continues", "import_id", id)
		return ctx.Err()
	}
	if jerr != nil {
		return jerr
	}
	return web.OK(w, res)
}

// recordTimeout bounds writing an import's outcome, which must happen even
// when the import was ended by shutdown.
const recordTimeout = 10 * time.Second

// runImport is the detached part of an import: hash, write, record the
// outcome in import_jobs (also a failure: its client-safe detail).
func (h *Handler) runImport(ctx context.Context, id int32, ros roster) (importResult, error) {
	log := web.Logger(ctx).With("import_id", id)
	start := time.Now()
	res, err := h.writeRoster(ctx, ros)
	res.ImportID = id
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err != nil {
		detail := msgInternal
		if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal {
			detail = e.Detail
		} else if errors.Is(err, context.Canceled) {
			detail = msgImportStopped
		}
		log.Warn("excel import failed", "error", err, "duration_ms", time.Since(start).Milliseconds())
		if rerr := h.repo.finishImport(rctx, id, statusFailed, nil, &detail); rerr != nil {
			log.Error("excel import: record failure", "error", rerr)
		}
		return importResult{}, err
	}
	log.Info("excel import done", "group_id", res.GroupID, "created", res.Created,
		"existing", res.Existing, "skipped", res.Skipped, "duration_ms", time.Since(start).Milliseconds())
	if err := h.repo.finishImport(rctx, id, statusDone, &res, nil); err != nil {
		return importResult{}, err
	}
	return res, nil
}

// writeRoster hashes the new users' default passwords (bulk work, no
// connection held) and writes the group, users and links in one transaction.
func (h *Handler) writeRoster(ctx context.Context, ros roster) (importResult, error) {
	existing, err := h.repo.existingIINs(ctx, iinsOf(ros.Rows))
	if err != nil {
		return importResult{}, err
	}
	var fresh []rosterRow
	for _, row := range ros.Rows {
		if !existing[row.IIN] {
			fresh = append(fresh, row)
		}
	}
	hashes, err := h.hashDefaults(ctx, fresh)
	if err != nil {
		return importResult{}, err
	}
	var res importResult
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		res, err = newRepo(tx).importRoster(ctx, ros, fresh, hashes)
		return err
	})
	return res, err
}

// recentImportsMax bounds the import list: enough to find one whose client left.
const recentImportsMax = 50

// imports is GET /admin/groups/imports: the newest import jobs, by id — how
// an admin whose upload was cut off finds its import_id.
func (h *Handler) imports(w http.ResponseWriter, r *http.Request) error {
	jobs, err := h.repo.recentImports(r.Context(), recentImportsMax)
	if err != nil {
		return err
	}
	return web.OK(w, jobs)
}

// importJob is GET /admin/groups/imports/{import_id}: an import's state and,
// once done, the body upload-excel answered (or the failure's detail).
func (h *Handler) importJob(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "import_id")
	if err != nil {
		return err
	}
	job, err := h.repo.importJob(r.Context(), id)
	if errors.Is(err, shared.ErrNotFound) {
		return apperr.NotFound(msgImportNotFound)
	}
	if err != nil {
		return err
	}
	return web.OK(w, job)
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
// bcrypt pool has slots (more would only queue there), as bulk work at
// DEFAULT_PASSWORD_COST (auth.Hasher.HashDefault: logins go first); no
// database connection is held meanwhile. The first failure cancels the rest.
func (h *Handler) hashDefaults(ctx context.Context, rows []rosterRow) ([]string, error) {
	hashes := make([]string, len(rows))
	if len(rows) == 0 {
		return hashes, nil
	}
	log := web.Logger(ctx)
	ctx = auth.Bulk(ctx)
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
				hash, err := h.hasher.HashDefault(ctx, iin[:3]+iin[len(iin)-3:])
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

package groups

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

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
	msgImportAbandoned  = "Импорт не завершён: сервер, выполнявший его, остановился, попытки исчерпаны"
	msgNoCredentials    = "Пароли этого импорта уже выданы или их срок истёк"
	msgImportRequeued   = "Сервер останавливается; импорт будет продолжен, его состояние: GET /admin/groups/imports/{import_id}"
)

// importGroup is POST /admin/groups/upload-excel: the upload goes to a
// temporary file (the streaming parse of internal/xlsx reads it from there)
// and bad rows are reported, all within the request. The rest — new users'
// passwords hashed as bulk work, then the group, users and links in one
// transaction — is an "excel_import" River job whose durable arguments are
// the parsed rows, queued in the same transaction as its import_jobs row.
// Any instance may run it; if that instance dies, River rescues the job and
// another one retries it (the import is idempotent: its outcome commits with
// the rows). The request waits for the outcome while its client stays and
// answers it; GET /admin/groups/imports/{import_id} reads it back.
func (h *Handler) importGroup(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	up, err := storage.NewUpload(r, excelLimit, msgExcelTooLarge)
	if err != nil {
		return err
	}
	part, err := up.NextFile("file")
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
	id, err := h.enqueueImport(ctx, part.ClientName(), ros)
	if err != nil {
		return err
	}
	log.Info("excel import queued", "import_id", id, "rows", len(ros.Rows))
	return h.awaitImport(w, r, id)
}

// enqueueImport records the import as queued and queues its job, in one
// transaction.
func (h *Handler) enqueueImport(ctx context.Context, fileName string, ros roster) (int32, error) {
	var id int32
	err := h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		repo := newRepo(tx)
		var err error
		if id, err = repo.startImport(ctx, fileName, len(ros.Rows)); err != nil {
			return err
		}
		job, err := h.jobs.InsertTx(ctx, tx, ImportArgs{ImportID: id, GroupName: ros.GroupName,
			GroupDesc: ros.GroupDesc, Rows: ros.Rows, Errors: ros.Errors}, nil)
		if err != nil {
			return err
		}
		return repo.setImportJob(ctx, id, job.ID)
	})
	return id, err
}

// importPollEvery is how often a waiting upload reads its import's state.
const importPollEvery = 100 * time.Millisecond

// awaitImport waits for import id to end and answers its outcome: the
// result (with the new accounts' one-time passwords) or the failure. A
// client that leaves leaves the import running; a server shutting down
// answers 503 once the job is back in the queue (another instance, or this
// one restarted, finishes it).
func (h *Handler) awaitImport(w http.ResponseWriter, r *http.Request, id int32) error {
	ctx := r.Context()
	tick := time.NewTicker(importPollEvery)
	defer tick.Stop()
	for {
		job, err := h.repo.importJob(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				web.Logger(ctx).Warn("excel import: client left; the import continues", "import_id", id)
			}
			return err
		}
		switch job.Status {
		case statusDone:
			var res importResult
			if err := json.Unmarshal(job.Result, &res); err != nil {
				return fmt.Errorf("admin: import result: %w", err)
			}
			if res.Credentials, err = h.readCredentials(ctx, id, false); err != nil {
				return err
			}
			return web.OK(w, res)
		case statusFailed:
			detail := msgInternal
			if job.Error != nil {
				detail = *job.Error
			}
			if detail == msgInternal {
				return fmt.Errorf("admin: import %d failed", id)
			}
			return apperr.BadRequest(detail)
		case statusQueued, statusRunning:
			if job.Status == statusQueued && h.lifetime != nil && h.lifetime.Err() != nil {
				return &apperr.Error{Kind: apperr.KindUnavailable, Detail: msgImportRequeued}
			}
		}
		select {
		case <-ctx.Done():
			web.Logger(ctx).Warn("excel import: client left; the import continues", "import_id", id)
			return ctx.Err()
		case <-tick.C:
		}
	}
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
	if errors.Is(err, errNotFound) {
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

// hashPasswords hashes the password of each new user in parallel, with as many workers as the shared
// bcrypt pool has slots (more would only queue there), as bulk work at
// DEFAULT_PASSWORD_COST (auth.Hasher.HashDefault: logins go first); no
// database connection is held meanwhile. The first failure cancels the rest.
func (h *Handler) hashPasswords(ctx context.Context, passwords []string) ([]string, error) {
	hashes := make([]string, len(passwords))
	if len(passwords) == 0 {
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
	for range min(h.hasher.Slots(), len(passwords)) {
		wg.Go(func() {
			for i := range next {
				hash, err := h.hasher.HashDefault(ctx, passwords[i])
				if err != nil {
					cancel(err)
					continue
				}
				hashes[i] = hash
				h.progress("hashed", 1)
				if n := done.Add(1); n%importProgressEvery == 0 {
					log.Info("excel import: passwords hashed", "done", n, "total", len(passwords))
				}
			}
		})
	}
feed:
	for i := range passwords {
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

package groups

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/xuri/excelize/v2"

	"platform/internal/apperr"
	"platform/internal/web"
)

// ImportArgs are an Excel import's durable arguments: the parsed roster,
// so a retry on any instance needs nothing from the request.
type ImportArgs struct {
	ImportID  int32         `json:"import_id"`
	GroupName string        `json:"group_name"`
	GroupDesc *string       `json:"group_desc"`
	Rows      []rosterRow   `json:"rows"`
	Errors    []importError `json:"errors"`
}

// Kind is the River job kind.
func (ImportArgs) Kind() string { return "excel_import" }

// importMaxAttempts: a first attempt and two retries (after a crash,
// a shutdown or a transient database failure).
const importMaxAttempts = 3

// InsertOpts sets the attempts.
func (ImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: importMaxAttempts}
}

// importWorker runs imports on whichever instance fetched the job.
type importWorker struct {
	river.WorkerDefaults[ImportArgs]
	h *Handler
}

// Timeout bounds one attempt (JOB_IMPORT_TIMEOUT).
func (w *importWorker) Timeout(*river.Job[ImportArgs]) time.Duration { return w.h.jobs.ImportTimeout() }

// errAlreadyFinished: another attempt committed this import's outcome.
var errAlreadyFinished = errors.New("admin: import already finished")

// Work runs one attempt: hash, then write the rows and the outcome in one
// transaction, so an import is done exactly when its rows are there. An
// attempt that finds the import finished does nothing (a retry after a
// commit whose acknowledgement was lost). A failure that a retry cannot
// change (a refused roster) fails the import at once; any other failure is
// recorded as the reason and retried, until the last attempt fails it.
func (w *importWorker) Work(ctx context.Context, job *river.Job[ImportArgs]) error {
	h := w.h
	a := job.Args
	log := h.jobs.Log().With("import_id", a.ImportID, "job_id", job.ID, "attempt", job.Attempt)
	claimed, err := h.repo.claimImport(ctx, a.ImportID, job.Attempt)
	if err != nil {
		return err
	}
	if !claimed {
		log.Info("excel import already finished; nothing to do")
		return nil
	}
	if h.m != nil {
		h.m.ImportsRunning.Inc()
		defer h.m.ImportsRunning.Dec()
	}
	start := time.Now()
	log.Info("excel import running", "rows", len(a.Rows))
	ros := roster{GroupName: a.GroupName, GroupDesc: a.GroupDesc, Rows: a.Rows, Errors: a.Errors}
	res, err := h.writeRoster(ctx, a.ImportID, ros)
	if errors.Is(err, errAlreadyFinished) {
		log.Info("excel import already finished by another attempt")
		return nil
	}
	if err == nil {
		h.progress("created", res.Created)
		h.progress("existing", res.Existing)
		h.progress("skipped", res.Skipped)
		log.Info("excel import done", "group_id", res.GroupID, "created", res.Created,
			"existing", res.Existing, "skipped", res.Skipped, "duration_ms", time.Since(start).Milliseconds())
		return nil
	}
	detail, permanent := msgInternal, false
	// A 503 (the database away, its pool busy) is passing, so retried.
	if e, ok := apperr.As(err); ok && e.Kind != apperr.KindInternal && e.Kind != apperr.KindUnavailable {
		detail, permanent = e.Detail, true
	} else if ctx.Err() != nil {
		detail = msgImportStopped
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if permanent || job.Attempt >= job.MaxAttempts {
		if rerr := h.repo.finishImport(rctx, a.ImportID, statusFailed, nil, &detail); rerr != nil {
			log.Error("excel import: record failure", "error", rerr)
		}
		log.Warn("excel import failed", "error", err, "reason", detail, "duration_ms", time.Since(start).Milliseconds())
		if permanent {
			return river.JobCancel(err)
		}
		return err
	}
	if rerr := h.repo.requeueImport(rctx, a.ImportID, detail); rerr != nil {
		log.Error("excel import: record retry", "error", rerr)
	}
	if ctx.Err() != nil {
		log.Warn("excel import interrupted (shutdown or attempt timeout); rolled back, it will be retried",
			"error", err, "duration_ms", time.Since(start).Milliseconds())
	} else {
		log.Warn("excel import attempt failed; rolled back, it will be retried", "error", err)
	}
	return err
}

// recordTimeout bounds writing an import's outcome, which must happen even
// when the attempt was ended by shutdown.
const recordTimeout = 10 * time.Second

// writeRoster gives the new users their passwords (random one-time ones,
// or the IIN-derived ones under UNSAFE_IIN_PASSWORDS), hashes them (bulk
// work, no connection held), and writes the group, users, links and the
// import's outcome (with the sealed one-time passwords) in one
// transaction, which first locks the import_jobs row: a concurrent or
// later attempt waits, then finds it done (errAlreadyFinished).
func (h *Handler) writeRoster(ctx context.Context, id int32, ros roster) (importResult, error) {
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
	passwords := make([]string, len(fresh))
	for i, row := range fresh {
		if h.unsafeIIN {
			passwords[i] = IINPassword(row.IIN)
		} else {
			passwords[i] = oneTimePassword()
		}
	}
	hashes, err := h.hashPasswords(ctx, passwords)
	if err != nil {
		return importResult{}, err
	}
	var res importResult
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		repo := newRepo(tx)
		if err := repo.lockRunningImport(ctx, id); err != nil {
			return err
		}
		created, err := repo.importRoster(ctx, ros, fresh, hashes, &res)
		if err != nil {
			return err
		}
		res.ImportID = id
		var sealed []byte
		if !h.unsafeIIN {
			var creds []credential
			for i, row := range fresh {
				if created[row.IIN] {
					creds = append(creds, credential{IIN: row.IIN, FullName: row.Name, Password: passwords[i]})
				}
			}
			if len(creds) > 0 {
				if sealed, err = h.seal.seal(id, creds); err != nil {
					return err
				}
			}
		}
		return repo.completeImport(ctx, id, &res, sealed)
	})
	return res, err
}

// readCredentials returns import id's one-time passwords while they are
// kept (nil once wiped or expired); wipe also removes them.
func (h *Handler) readCredentials(ctx context.Context, id int32, wipe bool) ([]credential, error) {
	sealed, err := h.repo.credentials(ctx, id, wipe)
	if err != nil || sealed == nil {
		return nil, err
	}
	return h.seal.open(id, sealed)
}

// credentialsSheet is GET /admin/groups/imports/{import_id}/credentials.xlsx:
// the new accounts' one-time passwords as a printable sheet, once (the
// download wipes them).
func (h *Handler) credentialsSheet(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "import_id")
	if err != nil {
		return err
	}
	creds, err := h.readCredentials(r.Context(), id, true)
	if err != nil {
		return err
	}
	if creds == nil {
		return apperr.NotFound(msgNoCredentials)
	}
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Sheet1"
	_ = f.SetSheetRow(sheet, "A1", &[]any{"ИИН", "ФИО", "Одноразовый пароль (сменить при первом входе)"})
	for i, c := range creds {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		_ = f.SetSheetRow(sheet, cell, &[]any{c.IIN, c.FullName, c.Password})
	}
	_ = f.SetColWidth(sheet, "A", "A", 16)
	_ = f.SetColWidth(sheet, "B", "B", 40)
	_ = f.SetColWidth(sheet, "C", "C", 24)
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%d-credentials.xlsx"`, id))
	w.Header().Set("Cache-Control", "no-store")
	_, err = f.WriteTo(w)
	return err
}

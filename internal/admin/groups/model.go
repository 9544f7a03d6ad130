package groups

import (
	"encoding/json"

	"platform/internal/timefmt"
)

// importError reports one skipped row of an Excel import (Excel's 1-based row number).
type importError struct {
	Row    int    `json:"row"`
	IIN    string `json:"iin"`
	Reason string `json:"reason"`
}

// importResult is the answer of POST /admin/groups/upload-excel.
type importResult struct {
	Message   string        `json:"message"`
	ImportID  int32         `json:"import_id"` // additive: GET /admin/groups/imports/{import_id}
	GroupID   int32         `json:"group_id"`
	GroupName string        `json:"group_name"`
	Created   int           `json:"created"`
	Existing  int           `json:"existing"`
	Skipped   int           `json:"skipped"`
	Errors    []importError `json:"errors"`
	// Credentials are the new accounts' one-time passwords, in
	// upload-excel's answer only (never stored in result); additive.
	Credentials []credential `json:"credentials,omitempty"`
}

// The states of an import job (import_jobs.status).
const (
	statusQueued  = "queued"
	statusRunning = "running"
	statusDone    = "done"
	statusFailed  = "failed"
)

// importJobOut is an import job as GET /admin/groups/imports/{import_id}
// shows it: status queued, running, done or failed; result is
// upload-excel's 200 body once done (without the one-time passwords), error
// the failure's reason once failed (and, while queued again, why the last
// attempt failed); attempt above 1 says it was retried.
type importJobOut struct {
	ID         int32           `json:"id" db:"id"`
	Status     string          `json:"status" db:"status"`
	FileName   string          `json:"file_name" db:"file_name"`
	Rows       int32           `json:"rows" db:"row_count"`
	Result     json.RawMessage `json:"result" db:"result"`
	Error      *string         `json:"error" db:"error"`
	StartedAt  timefmt.Time    `json:"started_at" db:"started_at"`
	FinishedAt *timefmt.Time   `json:"finished_at" db:"finished_at"`
	// Attempt is the attempt running or last run (additive; 0 while
	// queued the first time); above 1 the import was retried.
	Attempt int32 `json:"attempt" db:"attempt"`
}

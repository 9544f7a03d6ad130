package jobs

import (
	"encoding/json"
	"net/http"

	"github.com/jackc/pgx/v5"

	"platform/internal/db"
)

// DebugHandler adds GET /debug/jobs to the DEBUG_ADDR listener's handler:
// a JSON view of River's jobs for operators (counts by kind and state, and
// the 50 newest jobs with their attempts and last error). River's own UI
// (riverui) is not served by the module proxy we build from, so this small
// view stands in for it.
func DebugHandler(next http.Handler, pool *db.Pool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	mux.HandleFunc("GET /debug/jobs", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		type count struct {
			Kind  string `json:"kind"`
			State string `json:"state"`
			N     int64  `json:"count"`
		}
		type job struct {
			ID          int64   `json:"id"`
			Kind        string  `json:"kind"`
			State       string  `json:"state"`
			Attempt     int     `json:"attempt"`
			MaxAttempts int     `json:"max_attempts"`
			CreatedAt   string  `json:"created_at"`
			LastError   *string `json:"last_error"`
		}
		rows, err := pool.Query(ctx, `SELECT kind, state::text, count(*) FROM river_job GROUP BY 1, 2 ORDER BY 1, 2`)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		counts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (count, error) {
			var c count
			return c, row.Scan(&c.Kind, &c.State, &c.N)
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		rows, err = pool.Query(ctx, `
SELECT id, kind, state::text, attempt, max_attempts, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    errors[array_length(errors, 1)]->>'error'
FROM river_job ORDER BY id DESC LIMIT 50`)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		recent, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (job, error) {
			var j job
			return j, row.Scan(&j.ID, &j.Kind, &j.State, &j.Attempt, &j.MaxAttempts, &j.CreatedAt, &j.LastError)
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"counts": counts, "recent": recent})
	})
	return mux
}

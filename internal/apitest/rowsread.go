package apitest

import (
	"testing"
	"time"
)

// RowsRead is how many rows of table PostgreSQL has read (sequential plus
// index fetches) in the test's database so far, once the server's backends
// have flushed their statistics (they do at most a second after going idle):
// it polls until the count has been stable for a moment and is at least
// atLeast. Tests compare it before and after a request to check that a page
// reads the page's rows, not the whole table (issue 20).
func (e *Env) RowsRead(t testing.TB, table string, atLeast int64) int64 {
	t.Helper()
	// A backend flushes its statistics when idle, at most once a second.
	time.Sleep(1200 * time.Millisecond)
	var last int64 = -1
	for range 40 {
		var n int64
		err := e.Pool.QueryRow(t.Context(), `
SELECT pg_stat_clear_snapshot() IS NULL, coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)
FROM pg_stat_user_tables WHERE relname = $1`, table).Scan(new(bool), &n)
		if err != nil {
			t.Fatal(err)
		}
		if n == last && n >= atLeast {
			return n
		}
		last = n
		time.Sleep(500 * time.Millisecond)
	}
	return last
}

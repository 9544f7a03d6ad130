package apitest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"platform/internal/db"
)

// CountingDB is a db.DBTX that counts the statements sent through it, for
// tests checking that a read costs a fixed number of queries whatever the
// data size: hand it to the code under test in place of the pool.
type CountingDB struct {
	db.DBTX
	n atomic.Int64
}

// Count is the number of statements sent since the last Reset.
func (c *CountingDB) Count() int64 { return c.n.Load() }

// Reset sets the count to zero.
func (c *CountingDB) Reset() { c.n.Store(0) }

// Exec counts and runs a statement.
func (c *CountingDB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c.n.Add(1)
	return c.DBTX.Exec(ctx, sql, args...)
}

// Query counts and runs a query.
func (c *CountingDB) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c.n.Add(1)
	return c.DBTX.Query(ctx, sql, args...)
}

// QueryRow counts and runs a single-row query.
func (c *CountingDB) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c.n.Add(1)
	return c.DBTX.QueryRow(ctx, sql, args...)
}

// CountGET sends GET path with the token to srv (a server whose handlers
// use c) and returns the statements the request cost; the test fails
// unless the answer is 200.
func (c *CountingDB) CountGET(t testing.TB, srv *httptest.Server, path, token string) int64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	c.Reset()
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", path, res.StatusCode)
	}
	return c.Count()
}

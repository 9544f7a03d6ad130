package apitest

import (
	"context"
	"sync/atomic"

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

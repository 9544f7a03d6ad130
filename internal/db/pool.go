// Package db sets up the PostgreSQL pool, runs migrations and classifies PostgreSQL errors.
package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"platform/internal/apperr"
)

// DBTX is what repositories need; both *Pool and pgx.Tx satisfy it.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// PoolConfig sizes the pool (API.md §0.1: DB_POOL_SIZE, DB_MAX_OVERFLOW, DB_POOL_TIMEOUT).
type PoolConfig struct {
	URL         string
	MinConns    int32
	MaxConns    int32
	WaitTimeout time.Duration
	// Tracer, when set, sees every Query, QueryRow and Exec of every
	// connection, transactions' BEGIN and COMMIT included (tests count
	// queries with it).
	Tracer pgx.QueryTracer
}

// Pool is a pgxpool whose connection wait is bounded: a caller that waits
// longer than WaitTimeout for a free connection gets the 503 of API.md §0.4
// instead of hanging. pgxpool itself waits as long as the context lives.
// Every error a method returns (a transaction's included) that says the
// database is away carries the 503's kind (withKind).
//
// The pgxpool is a private field, not embedded, so every way to a
// connection goes through acquire: the methods are exactly what the service
// uses (DBTX, WithTx, Ping, plus Stat and Close, which take no connection).
// Batches, COPY or a raw Acquire would need a method here that keeps the bound.
type Pool struct {
	pool *pgxpool.Pool
	wait time.Duration
}

// Open creates the pool and checks the database answers within 10 seconds.
func Open(ctx context.Context, cfg PoolConfig) (*Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("db: parse url: %w", err)
	}
	pc.MinConns = cfg.MinConns
	pc.MaxConns = cfg.MaxConns
	if cfg.Tracer != nil {
		pc.ConnConfig.Tracer = cfg.Tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("db: open pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("db: ping: %w", err)
	}
	return &Pool{pool: pool, wait: cfg.WaitTimeout}, nil
}

// acquire takes a connection, waiting at most p.wait.
func (p *Pool) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	wctx, cancel := context.WithTimeout(ctx, p.wait)
	defer cancel()
	conn, err := p.pool.Acquire(wctx)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, apperr.Overloaded(fmt.Errorf("db: no free connection within %s", p.wait)).WithReason("db_pool_wait")
		}
		return nil, withKind(fmt.Errorf("db: acquire: %w", err))
	}
	return conn, nil
}

// Exec runs a statement on a pooled connection.
func (p *Pool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	conn, err := p.acquire(ctx)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer conn.Release()
	tag, err := conn.Exec(ctx, sql, args...)
	return tag, withKind(err)
}

// Query runs a query; the connection returns to the pool when the rows close.
func (p *Pool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	conn, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		conn.Release()
		return nil, withKind(err)
	}
	return &pooledRows{Rows: rows, conn: conn}, nil
}

// QueryRow runs a single-row query; the connection returns after Scan.
func (p *Pool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	conn, err := p.acquire(ctx)
	if err != nil {
		return errRow{err}
	}
	return &pooledRow{row: conn.QueryRow(ctx, sql, args...), conn: conn}
}

// Ping checks the database answers, within the pool's wait bound.
func (p *Pool) Ping(ctx context.Context) error {
	conn, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return withKind(conn.Ping(ctx))
}

// WithTx runs fn in a transaction: committed when fn returns nil, rolled back
// otherwise. A lost COMMIT acknowledgement is ErrCommitUnknown. Repositories
// never begin or commit; the code that needs atomicity calls WithTx.
func (p *Pool) WithTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	conn, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return withKind(runTx(ctx, conn, fn))
}

// Stat is a snapshot of the pool's counters (connections in use, idle,
// acquire waits): for gauges and for tests checking that no connection
// leaks. It takes no connection.
func (p *Pool) Stat() *pgxpool.Stat { return p.pool.Stat() }

// Close closes every connection, waiting for acquired ones to be released.
func (p *Pool) Close() { p.pool.Close() }

type pooledRows struct {
	pgx.Rows
	conn *pgxpool.Conn
	once sync.Once
}

func (r *pooledRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *pooledRows) Err() error { return withKind(r.Rows.Err()) }

func (r *pooledRows) Close() {
	r.Rows.Close()
	r.once.Do(r.conn.Release)
}

type pooledRow struct {
	row  pgx.Row
	conn *pgxpool.Conn
}

func (r *pooledRow) Scan(dest ...any) error {
	defer r.conn.Release()
	return withKind(r.row.Scan(dest...))
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

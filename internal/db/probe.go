package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"platform/migrations"
)

// Probe answers "can this instance serve?" for /readyz on a connection of
// its own, outside the pool: a pool that is merely busy (every connection in
// use, callers waiting) must not make a load balancer drain the instance,
// while a database that is unreachable, or a schema behind the binary's
// migrations, must.
type Probe struct {
	url  string
	sem  chan struct{} // one check at a time; the holder owns conn
	conn *pgx.Conn
}

// NewProbe returns a probe connecting to url when first checked.
func NewProbe(url string) *Probe {
	return &Probe{url: url, sem: make(chan struct{}, 1)}
}

// Check returns nil when the database answers and its schema is at the
// newest embedded migration, clean.
func (p *Probe) Check(ctx context.Context) error {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.sem }()
	if p.conn == nil || p.conn.IsClosed() {
		conn, err := pgx.Connect(ctx, p.url)
		if err != nil {
			return fmt.Errorf("db: probe connect: %w", err)
		}
		p.conn = conn
	}
	var version int64
	var dirty bool
	err := p.conn.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations`).Scan(&version, &dirty)
	if err != nil {
		// A broken connection is reopened by the next check.
		_ = p.conn.Close(context.WithoutCancel(ctx))
		p.conn = nil
		if errors.Is(err, pgx.ErrNoRows) {
			return errors.New("db: no migration applied")
		}
		return fmt.Errorf("db: probe: %w", err)
	}
	if dirty || version != int64(migrations.Latest()) {
		return fmt.Errorf("db: schema at version %d (dirty %t), binary needs %d", version, dirty, migrations.Latest())
	}
	return nil
}

// Close releases the probe's connection, waiting at most a second for it.
func (p *Probe) Close(ctx context.Context) {
	p.sem <- struct{}{}
	defer func() { <-p.sem }()
	if p.conn != nil {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_ = p.conn.Close(ctx)
		p.conn = nil
	}
}

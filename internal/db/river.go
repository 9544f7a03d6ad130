package db

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// JobsFrom is the pgxpool under p, for the River job client only
// (internal/jobs): River needs a *pgxpool.Pool of its own type and
// bounds its own waits (fetch polling, LISTEN), so it does not go through
// acquire. Nothing else may use it.
func JobsFrom(p *Pool) *pgxpool.Pool { return p.pool }

// riverSince is the first of our migrations that needs River's tables
// (000012: imports are River jobs). Rolling back below it removes them.
const riverSince = 12

// riverUp applies River's own migrations on the migration connection
// (under our advisory lock), each in a transaction of its own (one adds an
// enum value that the next uses, which PostgreSQL refuses in one
// transaction).
func riverUp(ctx context.Context, conn *pgx.Conn, log *slog.Logger) error {
	return riverSteps(ctx, conn, log, rivermigrate.DirectionUp, "river migrations applied")
}

// riverDown removes River's tables (every River migration, down).
func riverDown(ctx context.Context, conn *pgx.Conn, log *slog.Logger) error {
	return riverSteps(ctx, conn, log, rivermigrate.DirectionDown, "river migrations rolled back")
}

func riverSteps(ctx context.Context, conn *pgx.Conn, log *slog.Logger, dir rivermigrate.Direction, msg string) error {
	total := 0
	for {
		n := 0
		err := riverTx(ctx, conn, func(m *rivermigrate.Migrator[pgx.Tx], tx pgx.Tx) error {
			opts := &rivermigrate.MigrateOpts{MaxSteps: 1}
			// Deprecated for batching several migrations in one transaction;
			// here each transaction holds exactly one (MaxSteps: 1) on our
			// migration connection, under our advisory lock, which Migrate
			// (it takes a pool) cannot use.
			//lint:ignore SA1019 one River migration per transaction, see above
			res, err := m.MigrateTx(ctx, tx, dir, opts)
			if err != nil {
				return err
			}
			n = len(res.Versions)
			return nil
		})
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		total += n
	}
	if total > 0 {
		log.Info(msg, "versions", total)
	}
	return nil
}

func riverTx(ctx context.Context, conn *pgx.Conn, fn func(*rivermigrate.Migrator[pgx.Tx], pgx.Tx) error) error {
	m, err := rivermigrate.New(riverpgxv5.New(nil), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("db: river migrate: %w", err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("db: river migrate: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(m, tx); err != nil {
		return fmt.Errorf("db: river migrate: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("db: river migrate: %w", err)
	}
	return nil
}

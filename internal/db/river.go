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

// riverUp applies River's own migrations, in one transaction on the
// migration connection (under our advisory lock).
func riverUp(ctx context.Context, conn *pgx.Conn, log *slog.Logger) error {
	return riverTx(ctx, conn, func(m *rivermigrate.Migrator[pgx.Tx], tx pgx.Tx) error {
		res, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return err
		}
		if len(res.Versions) > 0 {
			log.Info("river migrations applied", "versions", len(res.Versions))
		}
		return nil
	})
}

// riverDown removes River's tables (every River migration, down).
func riverDown(ctx context.Context, conn *pgx.Conn, log *slog.Logger) error {
	return riverTx(ctx, conn, func(m *rivermigrate.Migrator[pgx.Tx], tx pgx.Tx) error {
		res, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1})
		if err != nil {
			return err
		}
		log.Info("river migrations rolled back", "versions", len(res.Versions))
		return nil
	})
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

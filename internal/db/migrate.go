package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/golang-migrate/migrate/v4"
	// The only blank import of the service (STYLE.md): it registers the
	// "pgx5" database driver with golang-migrate.
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"

	"platform/migrations"
)

// migrateLockKey is the fixed key of the PostgreSQL session advisory lock held
// for a whole adoption and migration run (SCHEMA.md §3). It is the ASCII of
// "platform" read as a big-endian int64, so it is stable across releases and
// unlikely to collide with another application's key. Advisory locks are per
// database, so instances sharing one database serialise while tests on
// separate databases do not contend.
//
// golang-migrate takes its own advisory lock (derived from the database and
// table names) around each operation, but it is released between our
// decision and its work; ours covers the adoption decision, the adoption
// itself and Up as one critical section.
const migrateLockKey int64 = 0x706c6174666f726d

// Migrate adopts an Alembic-managed or create_all-built database when needed
// (SCHEMA.md §3), then applies every pending migration. It holds one
// PostgreSQL session advisory lock (fixed application key) for the whole
// adoption and migration, so instances starting together are safe.
func Migrate(ctx context.Context, databaseURL string, log *slog.Logger) error {
	log = orDiscard(log)
	return withMigrateLock(ctx, databaseURL, func(conn *pgx.Conn) error {
		// Decide once, before golang-migrate touches the database: creating a
		// migrate instance creates schema_migrations, which would make an
		// Alembic database look like one of ours.
		st, err := inspect(ctx, conn)
		if err != nil {
			return fmt.Errorf("db: adopt: %w", err)
		}
		plan, err := decide(st)
		if err != nil {
			return fmt.Errorf("db: adopt: %w", err)
		}
		if plan.adopt {
			if err := adopt(ctx, conn, plan); err != nil {
				return fmt.Errorf("db: adopt: %w", err)
			}
		}

		m, err := newMigrate(databaseURL)
		if err != nil {
			return fmt.Errorf("db: migrate: %w", err)
		}
		defer closeMigrate(m)

		if plan.adopt {
			// Record the baseline as applied without running it: the
			// original's schema already is migration 1.
			if err := m.Force(1); err != nil {
				return fmt.Errorf("db: adopt: record baseline: %w", err)
			}
			log.Info("database adopted", "from", plan.from)
		}

		before, err := currentVersion(m)
		if err != nil {
			return fmt.Errorf("db: migrate: read version: %w", err)
		}
		if err := runCancellable(ctx, m, m.Up); err != nil {
			return fmt.Errorf("db: migrate: up: %w", err)
		}
		after, err := currentVersion(m)
		if err != nil {
			return fmt.Errorf("db: migrate: read version: %w", err)
		}
		if after >= riverSince {
			if err := riverUp(ctx, conn, log); err != nil {
				return err
			}
		}
		if after == before {
			log.Info("database schema up to date", "version", after)
		} else {
			log.Info("migrations applied", "version", after, "from_version", before)
		}
		return nil
	})
}

// MigrateDown rolls back the given number (> 0) of applied migrations, under
// the same advisory lock as Migrate. It refuses to run on a database that has
// no schema_migrations table, so it never turns an unadopted Alembic database
// into one that Migrate would skip adopting. It checks before reverting
// anything: more steps than are applied fail, and so does going below
// version 1 on an adopted database, whose baseline tables are the original's
// (migration 1's down step would drop them with all their data).
func MigrateDown(ctx context.Context, databaseURL string, steps int, log *slog.Logger) error {
	log = orDiscard(log)
	if steps <= 0 {
		return fmt.Errorf("db: migrate down: steps must be positive, got %d", steps)
	}
	return withMigrateLock(ctx, databaseURL, func(conn *pgx.Conn) error {
		exists, err := tableExists(ctx, conn, "schema_migrations")
		if err != nil {
			return fmt.Errorf("db: migrate down: %w", err)
		}
		if !exists {
			return errors.New("db: migrate down: no migrations recorded (schema_migrations does not exist)")
		}
		before, _, err := readVersion(ctx, conn)
		if err != nil {
			return fmt.Errorf("db: migrate down: %w", err)
		}
		if uint(steps) > before {
			return fmt.Errorf("db: migrate down %d: only %d applied (the schema is at version %d); nothing was reverted",
				steps, before, before)
		}
		if uint(steps) == before {
			adopted, err := wasAdopted(ctx, conn)
			if err != nil {
				return fmt.Errorf("db: migrate down: %w", err)
			}
			if adopted {
				return fmt.Errorf("db: migrate down %d: refusing to go below version 1 on an adopted database "+
					"(alembic_version exists): the baseline's down step would drop the original's tables and data; "+
					"at most %d steps, nothing was reverted", steps, before-1)
			}
		}

		m, err := newMigrate(databaseURL)
		if err != nil {
			return fmt.Errorf("db: migrate down: %w", err)
		}
		defer closeMigrate(m)

		if err := runCancellable(ctx, m, func() error { return m.Steps(-steps) }); err != nil {
			return fmt.Errorf("db: migrate down: %w", err)
		}
		after, err := currentVersion(m)
		if err != nil {
			return fmt.Errorf("db: migrate down: read version: %w", err)
		}
		if before >= riverSince && after < riverSince {
			if err := riverDown(ctx, conn, log); err != nil {
				return err
			}
		}
		log.Info("migrations rolled back", "version", after, "from_version", before)
		return nil
	})
}

// MigrateVersion reports the applied migration version and whether the last
// migration failed half-way (dirty). Version is 0 when none is recorded. It
// only reads: unlike golang-migrate's own Version it never creates
// schema_migrations, which would hide an Alembic database from adoption.
func MigrateVersion(ctx context.Context, databaseURL string) (version uint, dirty bool, err error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return 0, false, fmt.Errorf("db: migrate version: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	exists, err := tableExists(ctx, conn, "schema_migrations")
	if err != nil {
		return 0, false, fmt.Errorf("db: migrate version: %w", err)
	}
	if !exists {
		return 0, false, nil
	}
	version, dirty, err = readVersion(ctx, conn)
	if err != nil {
		return 0, false, fmt.Errorf("db: migrate version: %w", err)
	}
	return version, dirty, nil
}

// readVersion reads schema_migrations (which must exist) the way
// MigrateVersion reports it: 0 when no version is recorded.
func readVersion(ctx context.Context, conn *pgx.Conn) (version uint, dirty bool, err error) {
	var v int64
	err = conn.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&v, &dirty)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read schema_migrations: %w", err)
	}
	if v < 0 {
		// golang-migrate records -1 (no version) with dirty=true when the
		// first migration's down step fails.
		return 0, dirty, nil
	}
	return uint(v), dirty, nil
}

// MigrateForce records version as applied and clean without running anything,
// under the same advisory lock as Migrate; -1 records "no version". It is the
// operator's way out of a dirty state after fixing the database by hand.
func MigrateForce(ctx context.Context, databaseURL string, version int) error {
	return withMigrateLock(ctx, databaseURL, func(*pgx.Conn) error {
		m, err := newMigrate(databaseURL)
		if err != nil {
			return fmt.Errorf("db: migrate force: %w", err)
		}
		defer closeMigrate(m)
		if err := m.Force(version); err != nil {
			return fmt.Errorf("db: migrate force %d: %w", version, err)
		}
		return nil
	})
}

// withMigrateLock runs fn while holding the application's migration advisory
// lock on a dedicated connection. The lock is session-scoped, so it also
// goes away if the process dies; pg_advisory_lock waits for other instances
// and is interrupted (query cancel) when ctx is done.
func withMigrateLock(ctx context.Context, databaseURL string, fn func(conn *pgx.Conn) error) (err error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("db: migrate: connect: %w", err)
	}
	// Closing the session releases the lock even if the unlock below fails.
	defer conn.Close(context.WithoutCancel(ctx))

	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return fmt.Errorf("db: migrate: acquire lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLockKey); uerr != nil && err == nil {
			err = fmt.Errorf("db: migrate: release lock: %w", uerr)
		}
	}()
	return fn(conn)
}

// newMigrate builds a golang-migrate instance over the embedded migrations.
func newMigrate(databaseURL string) (*migrate.Migrate, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("open embedded migrations: %w", err)
	}
	u, err := pgx5URL(databaseURL)
	if err != nil {
		_ = src.Close()
		return nil, err
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, u)
	if err != nil {
		_ = src.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	return m, nil
}

// closeMigrate closes the instance's source and its database connections.
// Their errors are not actionable once the work is done, so they are dropped.
func closeMigrate(m *migrate.Migrate) {
	_, _ = m.Close()
}

// pgx5URL switches a postgres:// URL to the scheme golang-migrate's pgx/v5
// driver is registered under; the driver switches it back when connecting.
func pgx5URL(databaseURL string) (string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		// Do not echo the URL: it may carry a password.
		return "", errors.New("parse database URL: invalid URL")
	}
	switch u.Scheme {
	case "postgres", "postgresql":
	default:
		return "", fmt.Errorf("parse database URL: unsupported scheme %q", u.Scheme)
	}
	u.Scheme = "pgx5"
	return u.String(), nil
}

// runCancellable runs a golang-migrate operation, asking it to stop at the
// next migration boundary when ctx is done (golang-migrate takes no context).
// A stopped run returns nil from golang-migrate, so ctx's error is reported
// instead. ErrNoChange counts as success.
func runCancellable(ctx context.Context, m *migrate.Migrate, op func() error) error {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			// Buffered (capacity 1) and sent at most once: never blocks.
			m.GracefulStop <- true
		case <-done:
		}
	}()
	err := op()
	if errors.Is(err, migrate.ErrNoChange) {
		err = nil
	}
	if err != nil {
		return err
	}
	return ctx.Err()
}

// currentVersion is m.Version with "no version yet" reported as 0; the
// dirty flag is left out, as the callers only log the version.
func currentVersion(m *migrate.Migrate) (uint, error) {
	v, _, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, nil
	}
	return v, err
}

// orDiscard lets callers pass a nil logger (tests, tools).
func orDiscard(log *slog.Logger) *slog.Logger {
	if log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return log
}

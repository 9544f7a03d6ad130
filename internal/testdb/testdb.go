// Package testdb gives each test a private PostgreSQL database: migrated with
// the real embedded migrations (New, NewURL) or empty (Empty). Databases are
// cloned from a template built once per migration-file hash (pgtestdb), so a
// clone costs milliseconds and tests can run in parallel.
package testdb

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	// Registers the "pgx" database/sql driver pgtestdb uses for its admin
	// and template connections.
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/peterldowns/pgtestdb"
	"github.com/peterldowns/pgtestdb/migrators/common"

	"platform/internal/db"
	"platform/migrations"
)

// envAdminURL names the variable holding a superuser URL of the server the
// test databases are created on (the Makefile's local cluster, or CI's).
const envAdminURL = "TEST_DATABASE_URL"

// New returns a pool on a private, freshly migrated database (all migrations), closed at test end.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewURL(t))
	if err != nil {
		t.Fatalf("testdb: open pool: %v", err)
	}
	// Registered after pgtestdb's cleanup, so it runs first: the database
	// can only be dropped once the pool's connections are gone.
	t.Cleanup(pool.Close)
	return pool
}

// NewURL is New's database as a URL, for tests that build their own pool or run the binary's migrate code.
func NewURL(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, adminConfig(t), migrator{}).URL()
}

// Empty returns the URL of a private empty database (nothing migrated), for adoption tests.
func Empty(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, adminConfig(t), pgtestdb.NoopMigrator{}).URL()
}

// adminConfig turns TEST_DATABASE_URL into pgtestdb's connection settings.
// Per STYLE.md, -short skips database tests; otherwise a missing database is
// a failure, so CI cannot silently pass without running them.
func adminConfig(t testing.TB) pgtestdb.Config {
	t.Helper()
	if testing.Short() {
		t.Skip("testdb: database test skipped in -short mode")
	}
	raw := os.Getenv(envAdminURL)
	if raw == "" {
		t.Fatalf("testdb: %s is not set; run the tests with `make test`, which starts a local PostgreSQL, or use -short to skip database tests", envAdminURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Not echoing the URL: it may carry a password.
		t.Fatalf("testdb: %s is not a valid URL", envAdminURL)
	}
	password, _ := u.User.Password()
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	database := strings.TrimPrefix(u.Path, "/")
	if database == "" {
		database = "postgres"
	}
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       u.Hostname(),
		Port:       port,
		User:       u.User.Username(),
		Password:   password,
		Database:   database,
		Options:    u.RawQuery,
	}
}

// migrator is a pgtestdb.Migrator running the service's own migration code
// (the upstream golangmigrator module is not available to us). Going through
// db.Migrate means test templates are built exactly like production databases.
type migrator struct{}

// Hash identifies the template: it changes whenever any migration file does,
// so an edited or added migration gets a fresh template.
func (migrator) Hash() (string, error) {
	return common.HashDirs(migrations.FS, "*.sql", ".")
}

// Migrate applies every migration to the new, empty template database.
func (migrator) Migrate(ctx context.Context, _ *sql.DB, conf pgtestdb.Config) error {
	return db.Migrate(ctx, conf.URL(), nil)
}

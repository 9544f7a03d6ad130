package testdb_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"platform/internal/testdb"
	"platform/migrations"
)

func TestNewIsMigratedAndPrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)

	var version int64
	var dirty bool
	if err := pool.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations`).Scan(&version, &dirty); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if want := int64(migrations.Latest()); version != want || dirty {
		t.Errorf("version = %d (dirty %v), want %d (clean)", version, dirty, want)
	}

	// Each call clones its own database: a write here is invisible there.
	if _, err := pool.Exec(ctx, `INSERT INTO groups (name) VALUES ('private')`); err != nil {
		t.Fatal(err)
	}
	other := testdb.New(t)
	var n int
	if err := other.QueryRow(ctx, `SELECT count(*) FROM groups`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("second database sees %d groups, want 0", n)
	}
}

func TestEmptyHasNoTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testdb.Empty(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `
		SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("empty database has %d tables", n)
	}
}

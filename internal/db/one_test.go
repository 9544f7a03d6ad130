package db_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"platform/internal/db"
	"platform/internal/testdb"
)

// One and All scan a struct by column name and any other type from the
// row's one column; One's missing row is the caller's error, as is.
func TestOneAndAllScan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.New(t)

	ids, err := db.All[int32](ctx, pool, "ids", `SELECT g FROM generate_series(1, 3) g`)
	if err != nil || !slices.Equal(ids, []int32{1, 2, 3}) {
		t.Fatalf("All[int32] = %v, %v", ids, err)
	}
	none, err := db.All[string](ctx, pool, "none", `SELECT 'x' WHERE false`)
	if err != nil || none == nil || len(none) != 0 {
		t.Fatalf("All of no row = %#v, %v; want an empty, non-nil slice", none, err)
	}
	type row struct {
		ID   int32  `db:"id"`
		Name string `db:"name"`
	}
	r, err := db.One[row](ctx, pool, "row", nil, `SELECT 7 AS id, 'seven' AS name`)
	if err != nil || r != (row{7, "seven"}) {
		t.Fatalf("One[row] = %+v, %v", r, err)
	}
	errMissing := errors.New("missing")
	if _, err := db.One[int32](ctx, pool, "missing", errMissing, `SELECT 1 WHERE false`); err != errMissing {
		t.Fatalf("One of no row = %v, want the caller's error as is", err)
	}
	if _, err := db.One[row](ctx, pool, "extra", errMissing, `SELECT 1 AS id, 'x' AS name, 2 AS extra`); err == nil {
		t.Fatal("One[row] accepted a column the struct does not have")
	}
}

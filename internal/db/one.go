package db

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"
)

// One runs sql, which selects at most one row, and scans that row into T:
// a struct by column name (pgx.RowToStructByName, every field a column),
// anything else from the one column. No row gives notFound, returned as is
// (a package's sentinel, or an *apperr.Error carrying the endpoint's 404);
// any other error is wrapped with what, which names the query in logs.
func One[T any](ctx context.Context, q DBTX, what string, notFound error, sql string, args ...any) (T, error) {
	var zero T
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, rowTo[T]())
	if errors.Is(err, pgx.ErrNoRows) {
		return zero, notFound
	}
	if err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// All runs sql and scans every row into T as One does (a struct by column
// name, anything else from the one column); what names the query in errors.
// No row is an empty, non-nil slice.
func All[T any](ctx context.Context, q DBTX, what, sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, rowTo[T]())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// rowTo scans a struct by column name, any other T (an id, a path) from the
// row's one column.
func rowTo[T any]() pgx.RowToFunc[T] {
	if reflect.TypeFor[T]().Kind() == reflect.Struct {
		return pgx.RowToStructByName[T]
	}
	return pgx.RowTo[T]
}

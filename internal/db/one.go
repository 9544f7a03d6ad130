package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// One runs sql, which selects at most one row, and scans that row into T by
// column name (pgx.RowToStructByName). No row gives notFound, returned as is
// (a package's sentinel, or an *apperr.Error carrying the endpoint's 404);
// any other error is wrapped with what, which names the query in logs.
func One[T any](ctx context.Context, q DBTX, what string, notFound error, sql string, args ...any) (T, error) {
	var zero T
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[T])
	if errors.Is(err, pgx.ErrNoRows) {
		return zero, notFound
	}
	if err != nil {
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// All runs sql and scans every row into T by column name, as One does; what
// names the query in errors.
func All[T any](ctx context.Context, q DBTX, what, sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[T])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

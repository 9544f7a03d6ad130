// Package shared holds what admin's sub-packages (profile, users, groups,
// modules) have in common: row collection that maps "no row" to ErrNotFound,
// the body readers of their column sizes, the purge-then-remove-files
// transaction, the upload's file field, and the password store. It is
// internal to admin; other domains have their own.
package shared

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/jobs"
	"platform/internal/purge"
	"platform/internal/storage"
	"platform/internal/web"
)

// ErrNotFound marks a missing row; handlers answer their endpoint's own 404 text.
var ErrNotFound = errors.New("admin: not found")

// The unique constraints whose violations become the contract's 400s.
const (
	UniqueUserIIN   = "ix_users_iin"
	UniqueUserPhone = "users_phone_key"
	UniqueGroupName = "groups_name_key"
)

// One collects exactly one row into T, mapping "no row" to ErrNotFound.
func One[T any](rows pgx.Rows, err error, what string) (T, error) {
	var zero T
	if err != nil {
		return zero, fmt.Errorf("admin: %s: %w", what, err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByNameLax[T])
	if errors.Is(err, pgx.ErrNoRows) {
		return zero, ErrNotFound
	}
	if err != nil {
		return zero, fmt.Errorf("admin: %s: %w", what, err)
	}
	return v, nil
}

// All collects every row into []T (empty, never nil).
func All[T any](rows pgx.Rows, err error, what string) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("admin: %s: %w", what, err)
	}
	v, err := pgx.CollectRows(rows, pgx.RowToStructByNameLax[T])
	if err != nil {
		return nil, fmt.Errorf("admin: %s: %w", what, err)
	}
	return v, nil
}

// Exec runs a statement and reports whether it touched (for a SELECT,
// returned) a row.
func Exec(ctx context.Context, q db.DBTX, what, sql string, args ...any) (bool, error) {
	tag, err := q.Exec(ctx, sql, args...)
	if err != nil {
		return false, fmt.Errorf("admin: %s: %w", what, err)
	}
	return tag.RowsAffected() > 0, nil
}

// RequireRow runs a query for a row and answers the 404 with the notFound
// text when there is none.
func RequireRow(ctx context.Context, q db.DBTX, what, notFound, sql string, args ...any) error {
	ok, err := Exec(ctx, q, what, sql, args...)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFound(notFound)
	}
	return nil
}

// Optional is nil for a blank string (stored as NULL), else s.
func Optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// TrimmedStr reads a required string, trimmed, of min to max characters
// (a blank one is too short).
func TrimmedStr(v web.Value, minLen, maxLen int) string {
	s, ok := v.Str()
	if !ok {
		return ""
	}
	s = strings.TrimSpace(s)
	if v.MinLen(s, minLen) {
		v.MaxLen(s, maxLen)
	}
	return s
}

// StrMax reads a required string of at most n characters.
func StrMax(v web.Value, n int) string {
	s, ok := v.Str()
	if ok {
		v.MaxLen(s, n)
	}
	return s
}

// OptStrMax reads an optional string of at most n characters.
func OptStrMax(v web.Value, n int) *string {
	s, ok := v.OptStr()
	if ok && s != nil {
		v.MaxLen(*s, n)
	}
	return s
}

// PurgeTx runs a purge in one transaction, then removes its files at once,
// best effort, so they are gone when the response arrives (as with the
// original). With a job engine a "remove_files" job is also queued in that
// transaction: it checks the files are gone and retries until the store
// answers, so a removal that failed (store down, instance killed after the
// commit) is still done later.
func PurgeTx(ctx context.Context, pool *db.Pool, store storage.Store, engine *jobs.Engine, fn func(tx pgx.Tx) (purge.Files, error)) error {
	var files purge.Files
	err := pool.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		if files, err = fn(tx); err != nil || engine == nil {
			return err
		}
		return engine.RemoveTx(ctx, tx, files)
	})
	if err != nil {
		return err
	}
	files.RemoveNow(ctx, store)
	return nil
}

// FilePart skips to the file field named name; its absence is FastAPI's 422.
// Skipped non-file fields still keep the 64 KiB cap of API.md §0.7.
func FilePart(up *storage.Upload, name string) (storage.Part, error) {
	for {
		p, err := up.Next()
		if err == io.EOF {
			return storage.Part{}, apperr.Invalid(apperr.Missing([]any{"body", name}, nil))
		}
		if err != nil {
			return storage.Part{}, err
		}
		if p.FormName() == name && p.IsFile() {
			return p, nil
		}
		if p.IsFile() {
			err = up.Drain(p)
		} else {
			_, err = up.Value(p)
		}
		if err != nil {
			return storage.Part{}, err
		}
	}
}

// SetPassword hashes pw (in a bcrypt slot, no connection held) and stores
// it for the IIN; ErrNotFound when no user has it. A change or a reset is a
// user-visible password event, so in the same transaction it ends the user's
// sessions and tokens on every instance except keep (auth.EndSessions: the
// session of a user changing their own password; the zero Session for an
// admin reset), and a password given by the person or an admin ends
// must_change_password (it replaces the imported default). A
// rehash-on-login writes the hash alone (auth.Repo.ReplaceHash).
func SetPassword(ctx context.Context, hasher *auth.Hasher, pool *db.Pool, iin, pw string, keep auth.Session) error {
	hash, err := hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	return pool.WithTx(ctx, func(tx pgx.Tx) error {
		const set = `UPDATE users SET hashed_password = $2, must_change_password = false WHERE iin = $1 RETURNING id`
		var id int32
		err := tx.QueryRow(ctx, set, iin, hash).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("admin: set password: %w", err)
		}
		return auth.EndSessions(ctx, tx, id, keep)
	})
}

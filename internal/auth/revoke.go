package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"platform/internal/db"
)

// bumpVersion is the next token generation of a users row. NULL (adopted)
// and 1 (the port's first) both mean "never revoked", so the first event
// moves either to 2: from then on tokens in the original's shape are
// refused (User.neverRevoked).
const bumpVersion = `CASE WHEN token_version IS NULL THEN 2 ELSE token_version + 1 END`

// EndSessions is a revocation event of API.md §0.5.2, run inside the
// caller's transaction: every session and token of the user ends on every
// instance (the generation moves on, the refresh families are deleted),
// except keep, when it names one — the session of a user changing their own
// password, which keeps its access token and its refresh family (moved to
// the new generation, so it rotates as before). The zero Session keeps
// nothing (admin reset, logout).
func EndSessions(ctx context.Context, q db.DBTX, userID int32, keep Session) error {
	const bump = `UPDATE users SET token_version = ` + bumpVersion + `, kept_session = $2, kept_token = $3
WHERE id = $1 RETURNING token_version`
	var version int32
	err := q.QueryRow(ctx, bump, userID, keep.ID, keep.tokenHash()).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // deleted meanwhile: its sessions went with it
	}
	if err != nil {
		return fmt.Errorf("auth: end sessions: %w", err)
	}
	if keep.ID != nil {
		const move = `UPDATE refresh_families SET token_version = $3 WHERE id = $2 AND user_id = $1`
		if _, err := q.Exec(ctx, move, userID, *keep.ID, version); err != nil {
			return fmt.Errorf("auth: keep session: %w", err)
		}
	}
	const end = `DELETE FROM refresh_families WHERE user_id = $1 AND id IS DISTINCT FROM $2`
	if _, err := q.Exec(ctx, end, userID, keep.ID); err != nil {
		return fmt.Errorf("auth: end refresh families: %w", err)
	}
	return nil
}

// SetPassword hashes pw (in a bcrypt slot, no connection held) and stores
// it for the IIN; notFound, returned as is, when no user has it. A change
// or a reset is a user-visible password event, so in the same transaction
// it ends the user's sessions and tokens on every instance except keep
// (EndSessions: the session of a user changing their own password; the
// zero Session for an admin reset), and a password given by the person or
// an admin ends must_change_password (it replaces the imported default). A
// rehash-on-login writes the hash alone (Repo.ReplaceHash).
func SetPassword(ctx context.Context, hasher *Hasher, pool *db.Pool, iin, pw string, keep Session, notFound error) error {
	hash, err := hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	return pool.WithTx(ctx, func(tx pgx.Tx) error {
		const set = `UPDATE users SET hashed_password = $2, must_change_password = false WHERE iin = $1 RETURNING id`
		var id int32
		err := tx.QueryRow(ctx, set, iin, hash).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		}
		if err != nil {
			return fmt.Errorf("auth: set password: %w", err)
		}
		return EndSessions(ctx, tx, id, keep)
	})
}

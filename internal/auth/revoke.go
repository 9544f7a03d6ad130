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

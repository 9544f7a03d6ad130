package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/db"
	"platform/internal/web"
)

// msgBadRefresh answers every refused refresh token: unknown, expired,
// already rotated (then its family is revoked), or of a revoked session.
const msgBadRefresh = "Недействительный токен обновления"

// Sessions keeps the refresh tokens (tables refresh_families and
// refresh_tokens). A token is 256 random bits, sent base64url-encoded and
// stored as its SHA-256: a database leak yields nothing usable, and no salt
// or slow hash is needed for a secret that cannot be guessed. A family is
// the chain of rotations of one login; each use rotates the token, and
// presenting an already rotated one revokes the whole family (RFC 9700
// §4.14), since either its holder or a thief now has a copy.
type Sessions struct {
	pool   *db.Pool
	tokens *Tokens
}

// NewSessions returns the refresh-token store; each token lives for the
// refresh TTL of tokens.
func NewSessions(pool *db.Pool, tokens *Tokens) *Sessions {
	return &Sessions{pool: pool, tokens: tokens}
}

// newRefreshToken returns a fresh opaque token and its stored hash.
func newRefreshToken() (token string, hash []byte) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

// ttlSeconds is the refresh lifetime as the SQL interval argument.
func (s *Sessions) ttlSeconds() float64 { return s.tokens.refreshTTL.Seconds() }

// Start opens a new family for u (a login) and returns its first token and
// the family's id (the session id access tokens carry as sid). It first
// drops u's families that have no live token left, so the tables stay
// bounded by the active sessions without a background job.
func (s *Sessions) Start(ctx context.Context, u User) (string, int64, error) {
	const prune = `
DELETE FROM refresh_families f
WHERE f.user_id = $1
  AND NOT EXISTS (SELECT 1 FROM refresh_tokens t
                  WHERE t.family_id = f.id AND t.used_at IS NULL AND t.expires_at > now())`
	if _, err := s.pool.Exec(ctx, prune, u.ID); err != nil {
		return "", 0, fmt.Errorf("auth: prune refresh families: %w", err)
	}
	const q = `
WITH f AS (INSERT INTO refresh_families (user_id, token_version) VALUES ($1, $2) RETURNING id)
INSERT INTO refresh_tokens (token_hash, family_id, expires_at)
SELECT $3, f.id, now() + make_interval(secs => $4) FROM f
RETURNING family_id`
	token, hash := newRefreshToken()
	var familyID int64
	err := s.pool.QueryRow(ctx, q, u.ID, u.tokenVersion(), hash, s.ttlSeconds()).Scan(&familyID)
	if db.IsForeignKeyViolation(err) { // the user was deleted meanwhile
		return "", 0, apperr.Unauthenticated(msgUserGone)
	}
	if err != nil {
		return "", 0, fmt.Errorf("auth: start refresh family: %w", err)
	}
	return token, familyID, nil
}

// errRefused is a refused refresh token; the handler answers 401.
var errRefused = errors.New("auth: refresh token refused")

// Rotate spends the refresh token and returns its user (as now stored), the
// family's next token and the family's id. Every step runs under a lock on the family row,
// so two uses of one token, or a use racing a revocation, serialise: the
// second sees the first's outcome. A reused token, or a family started
// before the user's password changed, is revoked and refused; the
// revocation is committed even though the request fails.
func (s *Sessions) Rotate(ctx context.Context, token string) (User, string, int64, error) {
	hash := hashToken(token)
	var (
		u        User
		next     string
		revoked  bool
		familyID int64
	)
	err := s.pool.WithTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT family_id FROM refresh_tokens WHERE token_hash = $1`, hash).Scan(&familyID)
		if errors.Is(err, pgx.ErrNoRows) {
			return errRefused
		}
		if err != nil {
			return fmt.Errorf("auth: find refresh token: %w", err)
		}
		var userID, version int32
		err = tx.QueryRow(ctx, `SELECT user_id, token_version FROM refresh_families WHERE id = $1 FOR UPDATE`,
			familyID).Scan(&userID, &version)
		if errors.Is(err, pgx.ErrNoRows) { // revoked since the lookup
			return errRefused
		}
		if err != nil {
			return fmt.Errorf("auth: lock refresh family: %w", err)
		}
		// Read again under the lock: a concurrent rotation may have used it.
		var used, live bool
		err = tx.QueryRow(ctx, `SELECT used_at IS NOT NULL, expires_at > now() FROM refresh_tokens WHERE token_hash = $1`,
			hash).Scan(&used, &live)
		if errors.Is(err, pgx.ErrNoRows) {
			return errRefused
		}
		if err != nil {
			return fmt.Errorf("auth: read refresh token: %w", err)
		}
		if !live && !used {
			return errRefused
		}
		if u, err = NewRepo(tx).UserByID(ctx, userID); err != nil {
			return err // errNoUser cannot happen: the family goes with its user
		}
		if used || version != u.tokenVersion() {
			revoked = true // committed, then refused below
			return revokeFamily(ctx, tx, familyID)
		}
		const spend = `UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1`
		if _, err := tx.Exec(ctx, spend, hash); err != nil {
			return fmt.Errorf("auth: spend refresh token: %w", err)
		}
		// Rotated tokens are kept for reuse detection until they expire.
		const trim = `DELETE FROM refresh_tokens WHERE family_id = $1 AND expires_at <= now()`
		if _, err := tx.Exec(ctx, trim, familyID); err != nil {
			return fmt.Errorf("auth: trim refresh family: %w", err)
		}
		var nextHash []byte
		next, nextHash = newRefreshToken()
		const insert = `
INSERT INTO refresh_tokens (token_hash, family_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`
		if _, err := tx.Exec(ctx, insert, nextHash, familyID, s.ttlSeconds()); err != nil {
			return fmt.Errorf("auth: rotate refresh token: %w", err)
		}
		return nil
	})
	if errors.Is(err, errRefused) || (err == nil && revoked) {
		return User{}, "", 0, &apperr.Error{Kind: apperr.KindUnauthenticated, Detail: msgBadRefresh, Err: errRefused}
	}
	if err != nil {
		return User{}, "", 0, err
	}
	return u, next, familyID, nil
}

func revokeFamily(ctx context.Context, tx pgx.Tx, familyID int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM refresh_families WHERE id = $1`, familyID); err != nil {
		return fmt.Errorf("auth: revoke refresh family: %w", err)
	}
	return nil
}

// refresh is POST /auth/refresh: body {"refresh_token": "…"} (JSON, like
// /auth/login; a form would invite sending it next to the password form of
// /auth/token). It answers a new access token and the rotated refresh token.
func (h *Handler) refresh(w http.ResponseWriter, r *http.Request) error {
	body, err := web.ReadJSONMax(r, web.MaxAuthBody)
	if err != nil {
		return err
	}
	token, _ := body.Root().Object().Field("refresh_token").Str()
	if err := body.Err(); err != nil {
		return err
	}
	u, next, sid, err := h.sessions.Rotate(r.Context(), token)
	if err != nil {
		return err
	}
	access, err := h.tokens.Issue(u, sid)
	if err != nil {
		return err
	}
	return web.OK(w, loginResponse{AccessToken: access, TokenType: "bearer", RefreshToken: next,
		MustChangePassword: u.MustChangePassword})
}

// logout is POST /auth/logout: every session of the caller ends, on every
// device and instance — its refresh tokens and its access tokens alike
// (API.md §0.5.2).
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	u := MustUser(r.Context())
	end := func(tx pgx.Tx) error { return EndSessions(r.Context(), tx, u.ID, Session{}) }
	if err := h.sessions.pool.WithTx(r.Context(), end); err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: "Сессии завершены"})
}

// issue mints the access token and starts a refresh family for a login.
func (h *Handler) issue(ctx context.Context, u User) (loginResponse, error) {
	refresh, sid, err := h.sessions.Start(ctx, u)
	if err != nil {
		return loginResponse{}, err
	}
	access, err := h.tokens.Issue(u, sid)
	if err != nil {
		return loginResponse{}, err
	}
	return loginResponse{AccessToken: access, TokenType: "bearer", RefreshToken: refresh,
		MustChangePassword: u.MustChangePassword}, nil
}

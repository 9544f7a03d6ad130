package auth

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Tokens issues and verifies the API's JWTs: HS256, no leeway (API.md §0.5.2),
// interchangeable with the original's PyJWT tokens. Besides sub (the IIN)
// and exp, the port's tokens carry iat, uid (the users.id they were issued
// to), ver (users.token_version when issued) and sid (the refresh family of
// the login, its session), which Authenticate checks against the row; the
// original's tokens carry none of them and are judged by the legacy rule
// (see checkSession).
type Tokens struct {
	key        []byte
	ttl        time.Duration
	refreshTTL time.Duration
	now        func() time.Time
}

// DefaultRefreshTTL is the refresh-token lifetime when none is configured.
const DefaultRefreshTTL = 30 * 24 * time.Hour

// NewTokens returns a Tokens signing with key; access tokens live for ttl,
// refresh tokens for DefaultRefreshTTL (see WithRefreshTTL).
func NewTokens(key []byte, ttl time.Duration) *Tokens {
	return &Tokens{key: key, ttl: ttl, refreshTTL: DefaultRefreshTTL, now: time.Now}
}

// WithRefreshTTL sets the lifetime of each refresh token (REFRESH_TOKEN_TTL)
// and returns t.
func (t *Tokens) WithRefreshTTL(d time.Duration) *Tokens {
	t.refreshTTL = d
	return t
}

// Issue mints an access token for the user, bound to its id, to its
// current token generation and to the session (refresh family) sid.
func (t *Tokens) Issue(u User, sid int64) (string, error) {
	now := t.now()
	claims := jwt.MapClaims{
		"sub": u.IIN,
		"exp": now.Add(t.ttl).Unix(),
		"iat": now.Unix(),
		"uid": u.ID,
		"ver": u.tokenVersion(),
		"sid": sid,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Claims is what a verified token says. UserID, Version and SessionID are
// nil for the original's tokens, which only name the IIN.
type Claims struct {
	Subject   string
	UserID    *int32
	Version   *int32
	SessionID *int64
}

var errBadToken = errors.New("auth: invalid token")

// Verify checks the signature (HS256 only: "none" and every other algorithm
// are refused), requires exp, and returns the claims. A present uid or ver
// that is not a 32-bit integer, or sid outside [1, 2^53), makes the token
// invalid.
func (t *Tokens) Verify(token string) (Claims, error) {
	var tc tokenClaims
	_, err := jwt.ParseWithClaims(token, &tc, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %w", errBadToken, err)
	}
	if tc.Sub == "" {
		return Claims{}, fmt.Errorf("%w: no subject", errBadToken)
	}
	// A subject PostgreSQL cannot compare (not UTF-8, NUL) is no IIN: 401, not a 500.
	if !utf8.ValidString(tc.Sub) || strings.IndexByte(tc.Sub, 0) >= 0 {
		return Claims{}, fmt.Errorf("%w: subject is not text", errBadToken)
	}
	c := Claims{Subject: tc.Sub}
	if c.UserID, err = intClaim[int32](tc.UID, "uid", math.MinInt32, math.MaxInt32); err != nil {
		return Claims{}, err
	}
	if c.Version, err = intClaim[int32](tc.Ver, "ver", math.MinInt32, math.MaxInt32); err != nil {
		return Claims{}, err
	}
	if c.SessionID, err = intClaim[int64](tc.Sid, "sid", 1, maxSessionID); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// tokenClaims is what Verify reads of a payload; other claims are ignored
// (iat too: it is not checked). Every number is read as a JSON number:
// exp and nbf as golang-jwt reads them (not jwt.NumericDate, which also
// takes a quoted number), uid, ver and sid checked by intClaim (7.0 is 7).
type tokenClaims struct {
	Sub string   `json:"sub"`
	Exp *float64 `json:"exp"`
	Nbf *float64 `json:"nbf"`
	UID *float64 `json:"uid"`
	Ver *float64 `json:"ver"`
	Sid *float64 `json:"sid"`
}

// The jwt.Claims methods: golang-jwt's validator reads exp and nbf.
func (c *tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.Exp), nil }
func (c *tokenClaims) GetNotBefore() (*jwt.NumericDate, error)      { return numericDate(c.Nbf), nil }
func (c *tokenClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (c *tokenClaims) GetIssuer() (string, error)                   { return "", nil }
func (c *tokenClaims) GetSubject() (string, error)                  { return c.Sub, nil }
func (c *tokenClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

// numericDate is seconds since the epoch as golang-jwt's MapClaims reads them.
func numericDate(seconds *float64) *jwt.NumericDate {
	if seconds == nil {
		return nil
	}
	whole, frac := math.Modf(*seconds)
	return jwt.NewNumericDate(time.Unix(int64(whole), int64(frac*1e9)))
}

// maxSessionID bounds sid to the integers a float64 holds exactly (refresh
// family ids are a BIGSERIAL that never gets near it).
const maxSessionID = 1<<53 - 1

// intClaim reads an optional integer claim within [lo, hi]; present and
// not such an integer → a bad token.
func intClaim[T int32 | int64](v *float64, name string, lo, hi T) (*T, error) {
	if v == nil {
		return nil, nil
	}
	f := *v
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return nil, fmt.Errorf("%w: bad %s claim", errBadToken, name)
	}
	n := T(f)
	return &n, nil
}

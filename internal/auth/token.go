package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// Tokens issues and verifies the API's JWTs: HS256, claims sub (the IIN) and
// exp, no leeway (API.md §0.5.2), interchangeable with the original's PyJWT tokens.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewTokens returns a Tokens signing with key; tokens live for ttl.
func NewTokens(key []byte, ttl time.Duration) *Tokens {
	return &Tokens{key: key, ttl: ttl, now: time.Now}
}

// Issue mints a token for the IIN.
func (t *Tokens) Issue(iin string) (string, error) {
	claims := jwt.MapClaims{"sub": iin, "exp": t.now().Add(t.ttl).Unix()}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

var errBadToken = errors.New("auth: invalid token")

// Verify checks the signature (HS256 only: "none" and every other algorithm
// are refused), requires exp, and returns the subject.
func (t *Tokens) Verify(token string) (string, error) {
	parsed, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errBadToken, err)
	}
	claims, ok := parsed.Claims.(jwt.MapClaims)
	if !ok {
		return "", errBadToken
	}
	sub, ok := claims["sub"].(string)
	if !ok || sub == "" {
		return "", fmt.Errorf("%w: no subject", errBadToken)
	}
	// A subject PostgreSQL cannot compare (not UTF-8, NUL) is no IIN: 401, not a 500.
	if !utf8.ValidString(sub) || strings.IndexByte(sub, 0) >= 0 {
		return "", fmt.Errorf("%w: subject is not text", errBadToken)
	}
	return sub, nil
}

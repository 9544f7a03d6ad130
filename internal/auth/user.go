// Package auth owns identity: tokens, password hashing within bounded bcrypt
// slots, the login throttle, the login endpoints, the Authenticate middleware
// and the role guards every domain mounts.
package auth

import (
	"context"
	"crypto/sha256"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Role is a user's role (enum userrole).
type Role string

// The three roles.
const (
	Student Role = "student"
	Teacher Role = "teacher"
	Admin   Role = "admin"
)

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r == Student || r == Teacher || r == Admin }

// User is a row of users as the API shows it (the "User" shape of API.md §0.11).
// Scans by name (admin's) read the six shown columns; the fields the API
// never shows are read by position, in this package only.
type User struct {
	ID             int32   `json:"id" db:"id"`
	IIN            string  `json:"iin" db:"iin"`
	FullName       string  `json:"full_name" db:"full_name"`
	Phone          *string `json:"phone" db:"phone"`
	Role           Role    `json:"role" db:"role"`
	Photo          *string `json:"photo" db:"photo"`
	HashedPassword string  `json:"-" db:"-"`
	// TokenVersion is users.token_version, loaded only by this package
	// (Authenticate, login): nil is an adopted row never revoked since.
	TokenVersion *int32 `json:"-" db:"-"`
	// KeptSession and KeptToken name the session that survived the user's
	// last own password change (a refresh family id, or the SHA-256 of a
	// token in the original's shape); nil once every session ended.
	KeptSession *int64 `json:"-" db:"-"`
	KeptToken   []byte `json:"-" db:"-"`
	// MustChangePassword: the account still has the default password an
	// import gave it (set by the import, cleared by any password change).
	MustChangePassword bool `json:"-" db:"-"`
}

// neverRevoked reports whether the user has had no revocation event since
// the legacy rule began: generation NULL (adopted) or 1 (the port's first);
// every event moves it to 2 or beyond (bumpVersion).
func (u User) neverRevoked() bool { return u.TokenVersion == nil || *u.TokenVersion == 1 }

// tokenVersion is the generation new tokens carry: NULL counts as 0.
func (u User) tokenVersion() int32 {
	if u.TokenVersion == nil {
		return 0
	}
	return *u.TokenVersion
}

// UserBlock is the user as login and the /user endpoints return it.
type UserBlock struct {
	ID        int32   `json:"id"`
	IIN       string  `json:"iin"`
	Role      Role    `json:"role"`
	Phone     *string `json:"phone"`
	Photo     *string `json:"photo"`
	FullName  string  `json:"full_name"`
	ShortName string  `json:"short_name"`
}

// Block is u in the UserBlock shape.
func (u User) Block() UserBlock {
	return UserBlock{ID: u.ID, IIN: u.IIN, Role: u.Role, Phone: u.Phone, Photo: u.Photo,
		FullName: u.FullName, ShortName: ShortName(u.FullName)}
}

// ShortName abbreviates a full name as API.md §0.5.7: "Иванов Иван Иванович" → "Иванов И. И.".
func ShortName(fullName string) string {
	parts := strings.FieldsFunc(fullName, unicode.IsSpace)
	if len(parts) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(parts[0])
	for _, p := range parts[1:] {
		r, _ := utf8.DecodeRuneInString(p)
		b.WriteByte(' ')
		b.WriteRune(r)
		b.WriteByte('.')
	}
	return strings.TrimRightFunc(b.String(), unicode.IsSpace)
}

type ctxKey struct{}

// withUser returns ctx carrying the authenticated user.
func withUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// UserFrom is the authenticated user of the request; ok is false outside
// routes guarded by Authenticate.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(ctxKey{}).(User)
	return u, ok
}

// MustUser is UserFrom for handlers mounted behind Authenticate, where a
// missing user is a wiring bug.
func MustUser(ctx context.Context) User {
	u, ok := UserFrom(ctx)
	if !ok {
		panic("auth: handler mounted without Authenticate")
	}
	return u
}

// Session is the session a request authenticated with: the refresh family
// its token names (sid), or, for a token without one, the token itself. A
// password change by the user keeps exactly this session (EndSessions).
type Session struct {
	ID    *int64
	token string
}

func sessionOf(c Claims, token string) Session {
	if c.SessionID != nil {
		return Session{ID: c.SessionID}
	}
	return Session{token: token}
}

// tokenHash is what users.kept_token stores for a session without an id.
func (s Session) tokenHash() []byte {
	if s.ID != nil || s.token == "" {
		return nil
	}
	return hashToken(s.token)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

type sessionKey struct{}

func withSession(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom is the request's session (zero outside Authenticate).
func SessionFrom(ctx context.Context) Session {
	s, _ := ctx.Value(sessionKey{}).(Session)
	return s
}

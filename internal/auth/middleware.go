package auth

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"platform/internal/apperr"
	"platform/internal/web"
)

// The 401 texts of API.md §0.5.1.
const (
	msgNotAuthenticated = "Not authenticated"
	msgBadToken         = "Вы не авторизованы"
	msgUserGone         = "Пользователь не найден"
)

// Authenticate verifies the Bearer token, loads its user and puts it in the
// request context (read it with UserFrom). Every 401 carries the Bearer
// challenge. The lookups of concurrent requests are coalesced (userLoader).
func Authenticate(tokens *Tokens, repo *Repo) func(http.Handler) http.Handler {
	users := newUserLoader(repo)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
			if !strings.EqualFold(scheme, "bearer") {
				web.WriteError(w, r, apperr.Unauthenticated(msgNotAuthenticated))
				return
			}
			token = strings.TrimSpace(token)
			claims, err := tokens.Verify(token)
			if err != nil {
				web.WriteError(w, r, &apperr.Error{Kind: apperr.KindUnauthenticated, Detail: msgBadToken, Err: err, Challenge: true})
				return
			}
			u, err := users.UserByIIN(r.Context(), claims.Subject)
			if errors.Is(err, errNoUser) {
				web.WriteError(w, r, apperr.Unauthenticated(msgUserGone))
				return
			}
			if err != nil {
				web.WriteError(w, r, err)
				return
			}
			if err := checkSession(claims, token, u); err != nil {
				web.WriteError(w, r, err)
				return
			}
			web.SetUserID(r.Context(), u.ID)
			ctx := withSession(withUser(r.Context(), u), sessionOf(claims, token))
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// checkSession applies the revocation rules of API.md §0.5.2 to a verified
// token of user u (the row its sub names):
//   - uid, when present, must be u's id: the account the token was issued
//     to is gone (a re-created IIN is another account) → "user not found";
//   - the session that changed the user's own password keeps working
//     (u.KeptSession = its sid, or, for a token without sid — the
//     original's, or one the port issued before sessions had ids —
//     u.KeptToken = the token's hash), whatever generation it carries;
//   - ver, when present, must equal u's current token generation (NULL = 0),
//     which every revocation event moves on;
//   - a token without ver (the original's shape, sub + exp) is accepted
//     while the user has had no revocation event (neverRevoked; a row
//     re-created for a deleted user's IIN starts revoked, migration 10).
//
// A counter rather than an iat timestamp for the port's tokens: no clock is
// compared (instances and database may disagree by milliseconds; iat has
// whole seconds), and a login that verified the old password just before a
// change gets a token of the old generation, which is refused.
func checkSession(c Claims, token string, u User) error {
	if c.UserID != nil && *c.UserID != u.ID {
		return apperr.Unauthenticated(msgUserGone)
	}
	if keptSession(c, token, u) {
		return nil
	}
	switch {
	case c.Version != nil:
		if *c.Version == u.tokenVersion() {
			return nil
		}
	case c.UserID == nil && c.SessionID == nil && u.neverRevoked():
		return nil // the original's shape; a uid or sid without ver is no shape anyone mints
	}
	return &apperr.Error{Kind: apperr.KindUnauthenticated, Detail: msgBadToken, Err: errRevoked, Challenge: true}
}

// keptSession reports whether the token belongs to the session that
// survived u's last own password change.
func keptSession(c Claims, token string, u User) bool {
	if c.SessionID != nil {
		return u.KeptSession != nil && *c.SessionID == *u.KeptSession
	}
	if u.KeptToken != nil {
		return subtle.ConstantTimeCompare(hashToken(token), u.KeptToken) == 1
	}
	return false
}

// errRevoked is the logged cause of a token of an older generation.
var errRevoked = errors.New("auth: token revoked")

// guard admits the listed roles and refuses the rest with 403 and the text.
func guard(refusal string, roles ...Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, ok := UserFrom(r.Context())
			if !ok {
				web.WriteError(w, r, apperr.Unauthenticated(msgNotAuthenticated))
				return
			}
			for _, role := range roles {
				if u.Role == role {
					next.ServeHTTP(w, r)
					return
				}
			}
			web.WriteError(w, r, apperr.Forbidden(refusal))
		})
	}
}

// StudentOnly admits students (API.md §0.5.6).
func StudentOnly(next http.Handler) http.Handler {
	return guard("Доступ воспрещен: только для студентов", Student)(next)
}

// TeacherOrAdmin admits teachers and admins.
func TeacherOrAdmin(next http.Handler) http.Handler {
	return guard("Доступ воспрещен: только для преподавателей", Teacher, Admin)(next)
}

// AdminOnly admits admins.
func AdminOnly(next http.Handler) http.Handler {
	return guard("Доступ воспрещен: только для администраторов", Admin)(next)
}

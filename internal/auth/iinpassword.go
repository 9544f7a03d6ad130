package auth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"

	"platform/internal/apperr"
	"platform/internal/web"
)

// Imported accounts and the IIN-derived password (issue 21). The original
// gave every imported student the password "first 3 + last 3 digits of the
// IIN"; an IIN is known to classmates and teachers, so such a password lets
// anyone in. Imports now give random one-time passwords; a login whose
// password is the IIN-derived one of its account is refused, unless
// UNSAFE_IIN_PASSWORDS is on, and then the session can only change the
// password (and check or end itself) until the password is changed.

// Texts of the refusals.
const (
	msgIINPasswordRefused  = "Вход с паролем из цифр ИИН отключён: попросите администратора выдать новый пароль"
	msgChangePasswordFirst = "Сначала смените пароль: до этого доступны только смена пароля, /auth/check и /auth/logout"
)

// iinPassword is the legacy default password of an IIN (first 3 + last 3 digits).
func iinPassword(iin string) string {
	if len(iin) < 6 {
		return ""
	}
	return iin[:3] + iin[len(iin)-3:]
}

// isIINPassword reports whether password is the IIN-derived one of iin.
func isIINPassword(iin, password string) bool {
	want := iinPassword(iin)
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
}

// AllowIINPasswords sets UNSAFE_IIN_PASSWORDS: logins with the IIN-derived
// password get a session restricted to changing it instead of a refusal.
// It returns h for the route table.
func (h *Handler) AllowIINPasswords(unsafe bool) *Handler {
	h.unsafeIIN = unsafe
	return h
}

// iinPasswordGate runs after a login verified password for u: the
// IIN-derived password is refused (403), or, under UNSAFE_IIN_PASSWORDS,
// marks the account must_change_password so its sessions are restricted
// (RestrictUnchanged). The password is never logged.
func (h *Handler) iinPasswordGate(ctx context.Context, u *User, password string) error {
	if !isIINPassword(u.IIN, password) {
		return nil
	}
	if !h.unsafeIIN {
		web.Logger(ctx).Warn("login refused: the password is derived from the IIN", "user_id", u.ID)
		return apperr.Forbidden(msgIINPasswordRefused)
	}
	if !u.MustChangePassword {
		if _, err := h.repo.q.Exec(ctx, `UPDATE users SET must_change_password = true WHERE id = $1`, u.ID); err != nil {
			return fmt.Errorf("auth: mark must change password: %w", err)
		}
		u.MustChangePassword = true
	}
	return nil
}

// unrestricted are the paths a session of an account that must change its
// password may call.
var unrestricted = map[string]bool{
	"/auth/check":           true,
	"/auth/logout":          true,
	"/user/change-password": true,
}

// RestrictUnchanged refuses (403) every request of an account still marked
// must_change_password (an imported one-time or IIN-derived password not
// yet replaced) except changing the password, /auth/check and /auth/logout.
// It runs after Authenticate.
func RestrictUnchanged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := UserFrom(r.Context()); ok && u.MustChangePassword && !unrestricted[r.URL.Path] {
			web.WriteError(w, r, apperr.Forbidden(msgChangePasswordFirst))
			return
		}
		next.ServeHTTP(w, r)
	})
}

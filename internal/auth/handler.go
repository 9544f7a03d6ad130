package auth

import (
	"context"
	"errors"
	"net/http"
	"unicode/utf8"

	"platform/internal/apperr"
	"platform/internal/web"
)

// Handler serves /auth.
type Handler struct {
	repo     *Repo
	tokens   *Tokens
	hasher   *Hasher
	throttle *Throttle
	sessions *Sessions
	// unsafeIIN: UNSAFE_IIN_PASSWORDS (iinpassword.go).
	unsafeIIN bool
}

// NewHandler returns the /auth handler.
func NewHandler(repo *Repo, tokens *Tokens, hasher *Hasher, throttle *Throttle, sessions *Sessions) *Handler {
	throttle.pace = hasher // the wait for an account's budget counts towards LOGIN_MAX_WAIT
	return &Handler{repo: repo, tokens: tokens, hasher: hasher, throttle: throttle, sessions: sessions}
}

// loginResponse is the body of a successful login, token or refresh.
// refresh_token is new (issue 15); the old SPA ignores it.
type loginResponse struct {
	AccessToken  string     `json:"access_token"`
	TokenType    string     `json:"token_type"`
	RefreshToken string     `json:"refresh_token"`
	User         *UserBlock `json:"user,omitempty"`
	// MustChangePassword marks an account still on its imported default
	// password (additive; the SPA may ask for a new one).
	MustChangePassword bool `json:"must_change_password"`
}

// errBadCredentials is a wrong password or unknown IIN; each endpoint has its text.
var errBadCredentials = errors.New("auth: bad credentials")

// authenticate runs one throttled login attempt (API.md §0.5.4): the
// throttle refuses a locked key and bounds the checks in flight; the check
// loads the user and verifies — always one bcrypt comparison, even for
// unknown keys. A hash below BCRYPT_COST that just verified is upgraded.
func (h *Handler) authenticate(ctx context.Context, key, password string) (User, error) {
	var u User
	ok, err := h.throttle.Check(ctx, key, func(ctx context.Context) (bool, error) {
		var err error
		u, err = h.repo.UserByIIN(ctx, key)
		switch {
		case errors.Is(err, errNoUser):
			return false, h.hasher.VerifyDummy(ctx, password)
		case err != nil:
			return false, err
		}
		return h.hasher.Verify(ctx, u.HashedPassword, password)
	})
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, errBadCredentials
	}
	if h.hasher.NeedsRehash(u.HashedPassword) {
		h.rehash(ctx, u, password)
	}
	return u, nil
}

// rehash replaces u's verified low-cost hash by one at BCRYPT_COST (as
// passlib's and Django's upgrade on login). Best effort: the login has
// succeeded either way, and the next one tries again.
func (h *Handler) rehash(ctx context.Context, u User, password string) {
	hash, err := h.hasher.Hash(ctx, password)
	if err == nil {
		err = h.repo.ReplaceHash(ctx, u.ID, u.HashedPassword, hash)
	}
	if err != nil {
		web.Logger(ctx).Warn("password hash upgrade skipped", "user_id", u.ID, "error", err)
	}
}

// login is POST /auth/login.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	body, err := web.ReadJSONMax(r, web.MaxAuthBody)
	if err != nil {
		return err
	}
	o := body.Root().Object()
	iin, _ := o.Field("iin").IIN()
	password, _ := o.Field("password").Str()
	if err := body.Err(); err != nil {
		return err
	}
	u, err := h.authenticate(r.Context(), iin, password)
	if errors.Is(err, errBadCredentials) {
		return apperr.Unauthenticated("Неправильный ИИН или пароль")
	}
	if err == nil {
		err = h.iinPasswordGate(r.Context(), &u, password)
	}
	if err != nil {
		return err
	}
	res, err := h.issue(r.Context(), u)
	if err != nil {
		return err
	}
	block := u.Block()
	res.User = &block
	return web.OK(w, res)
}

// maxTokenUsername bounds /auth/token usernames (the throttle key column is varchar(64)).
const maxTokenUsername = 64

// token is POST /auth/token, the OAuth2 password form.
func (h *Handler) token(w http.ResponseWriter, r *http.Request) error {
	form, err := readForm(r)
	if err != nil {
		return err
	}
	var issues []apperr.Issue
	// As FastAPI reads forms: an empty value is an absent field, and a
	// repeated field counts with its last value (Starlette's FormData.get).
	field := func(name string) (string, bool) {
		vs := form[name]
		if len(vs) == 0 || vs[len(vs)-1] == "" {
			return "", false
		}
		return vs[len(vs)-1], true
	}
	username, hasUser := field("username")
	password, hasPass := field("password")
	if !hasUser {
		issues = append(issues, apperr.Missing([]any{"body", "username"}, nil))
	}
	if !hasPass {
		issues = append(issues, apperr.Missing([]any{"body", "password"}, nil))
	}
	if gt, ok := field("grant_type"); ok && gt != "password" {
		issues = append(issues, apperr.Issue{Type: "string_pattern_mismatch", Loc: []any{"body", "grant_type"},
			Msg: "String should match pattern '^password$'", Input: gt, Ctx: map[string]any{"pattern": "^password$"}})
	}
	if len(issues) > 0 {
		return apperr.Invalid(issues...)
	}
	refused := apperr.Unauthenticated("Неверный ИИН или пароль")
	if utf8.RuneCountInString(username) > maxTokenUsername {
		return refused
	}
	u, err := h.authenticate(r.Context(), username, password)
	if errors.Is(err, errBadCredentials) {
		return refused
	}
	if err == nil {
		err = h.iinPasswordGate(r.Context(), &u, password)
	}
	if err != nil {
		return err
	}
	res, err := h.issue(r.Context(), u)
	if err != nil {
		return err
	}
	return web.OK(w, res)
}

// readForm is the OAuth2 form, read at the edge (web.ReadForm: capped, no
// parser messages in a 422, UTF-8 without NUL).
func readForm(r *http.Request) (map[string][]string, error) { return web.ReadForm(r) }

// check is GET /auth/check, which the frontend calls on every page:
// {"status":"ok","user":{"iin","role"},"must_change_password"}.
func (h *Handler) check(w http.ResponseWriter, r *http.Request) error {
	u := MustUser(r.Context())
	return web.OK(w, checkResponse{Status: "ok", User: checkUser{IIN: u.IIN, Role: u.Role}, MustChangePassword: u.MustChangePassword})
}

type checkUser struct {
	IIN  string `json:"iin"`
	Role Role   `json:"role"`
}

type checkResponse struct {
	Status             string    `json:"status"`
	User               checkUser `json:"user"`
	MustChangePassword bool      `json:"must_change_password"`
}

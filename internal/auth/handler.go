package auth

import (
	"context"
	"errors"
	"fmt"
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
}

// NewHandler returns the /auth handler.
func NewHandler(repo *Repo, tokens *Tokens, hasher *Hasher, throttle *Throttle) *Handler {
	return &Handler{repo: repo, tokens: tokens, hasher: hasher, throttle: throttle}
}

type loginResponse struct {
	AccessToken string     `json:"access_token"`
	TokenType   string     `json:"token_type"`
	User        *UserBlock `json:"user,omitempty"`
}

// errBadCredentials is a wrong password or unknown IIN; each endpoint has its text.
var errBadCredentials = errors.New("auth: bad credentials")

// authenticate runs one throttled login attempt (API.md §0.5.4): take a
// bcrypt place first (an overloaded server refuses without counting), count
// the attempt, load the user, verify — always one bcrypt comparison, even
// for unknown keys — and clear the counter on success.
func (h *Handler) authenticate(ctx context.Context, key, password string) (User, error) {
	res, err := h.hasher.Reserve()
	if err != nil {
		return User{}, err
	}
	defer res.Release()
	minutes, err := h.throttle.Attempt(ctx, key)
	if err != nil {
		return User{}, err
	}
	if minutes > 0 {
		return User{}, apperr.Forbidden(fmt.Sprintf("Превышено число попыток.Повторите через %d мин.", minutes))
	}
	u, err := h.repo.UserByIIN(ctx, key)
	switch {
	case errors.Is(err, errNoUser):
		if err := res.VerifyDummy(ctx, password); err != nil {
			return User{}, err
		}
		return User{}, errBadCredentials
	case err != nil:
		return User{}, err
	}
	ok, err := res.Verify(ctx, u.HashedPassword, password)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, errBadCredentials
	}
	if err := h.throttle.Reset(ctx, key); err != nil {
		return User{}, err
	}
	return u, nil
}

// login is POST /auth/login.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	body, err := web.ReadJSON(r)
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
	if err != nil {
		return err
	}
	token, err := h.tokens.Issue(u.IIN)
	if err != nil {
		return err
	}
	block := u.Block()
	return web.OK(w, loginResponse{AccessToken: token, TokenType: "bearer", User: &block})
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
	if err != nil {
		return err
	}
	token, err := h.tokens.Issue(u.IIN)
	if err != nil {
		return err
	}
	return web.OK(w, loginResponse{AccessToken: token, TokenType: "bearer"})
}

// readForm is the OAuth2 form, read at the edge (web.ReadForm: capped, no
// parser messages in a 422, UTF-8 without NUL).
func readForm(r *http.Request) (map[string][]string, error) { return web.ReadForm(r) }

type checkResponse struct {
	Status string    `json:"status"`
	User   checkUser `json:"user"`
}

type checkUser struct {
	IIN  string `json:"iin"`
	Role Role   `json:"role"`
}

// check is GET /auth/check.
func (h *Handler) check(w http.ResponseWriter, r *http.Request) error {
	u := MustUser(r.Context())
	return web.OK(w, checkResponse{Status: "ok", User: checkUser{IIN: u.IIN, Role: u.Role}})
}

package auth_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// Issue 15: tokens end when they should, on every instance. Each test drives
// two servers on one database where the rule concerns another instance.

type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

func loginTokens(t *testing.T, env *apitest.Env, u apitest.User) tokens {
	t.Helper()
	var tk tokens
	login(t, env, u.IIN, u.Password).Status(t, 200).Decode(t, &tk)
	if tk.Access == "" || len(tk.Refresh) < 43 {
		t.Fatalf("login tokens %+v", tk)
	}
	return tk
}

func refresh(t *testing.T, env *apitest.Env, token string) *apitest.Response {
	t.Helper()
	return env.Do(t, "POST", "/auth/refresh", noToken, map[string]any{"refresh_token": token})
}

const msgBadRefresh = "Недействительный токен обновления"

// Issue 19.3 (API.md §0.5.2, OWASP ASVS 3.3.3): a user's own password change
// ends every other session and token of that user on every instance, while
// the session that made the change keeps working — its access token (the
// SPA goes on using it) and its refresh token.
func TestPasswordChangeKeepsOnlyTheCallersSession(t *testing.T) {
	t.Parallel()
	a := apitest.New(t)
	b := a.Twin(t)
	u := a.User(t, auth.Student)
	mine, laptop := loginTokens(t, a, u), loginTokens(t, b, u)
	for _, env := range []*apitest.Env{a, b} {
		env.Do(t, "GET", "/auth/check", bearer(mine.Access), nil).Status(t, 200)
		env.Do(t, "GET", "/auth/check", bearer(laptop.Access), nil).Status(t, 200)
	}

	a.Do(t, "PATCH", "/user/change-password", bearer(mine.Access), map[string]any{"old_password": u.Password, "new_password": "new-secret"}).Status(t, 200)

	for _, env := range []*apitest.Env{a, b} {
		env.Do(t, "GET", "/auth/check", bearer(mine.Access), nil).Status(t, 200)
		env.Do(t, "GET", "/auth/check", u, nil).Error(t, 401, "Вы не авторизованы") // another session
		env.Do(t, "GET", "/auth/check", bearer(laptop.Access), nil).Error(t, 401, "Вы не авторизованы")
	}
	refresh(t, a, laptop.Refresh).Error(t, 401, msgBadRefresh)
	// The caller's refresh token rotates on the other instance, and so on.
	var next tokens
	refresh(t, b, mine.Refresh).Status(t, 200).Decode(t, &next)
	a.Do(t, "GET", "/auth/check", bearer(next.Access), nil).Status(t, 200)
	refresh(t, a, next.Refresh).Status(t, 200)
	// A login made after the change works at once, even within the same second.
	u.Password = "new-secret"
	fresh := loginTokens(t, a, u)
	b.Do(t, "GET", "/auth/check", bearer(fresh.Access), nil).Status(t, 200)
	refresh(t, b, fresh.Refresh).Status(t, 200)

	// A second change from the fresh session ends the first one too.
	a.Do(t, "PATCH", "/user/change-password", bearer(fresh.Access), map[string]any{"old_password": "new-secret", "new_password": "newer-secret"}).Status(t, 200)
	for _, env := range []*apitest.Env{a, b} {
		env.Do(t, "GET", "/auth/check", bearer(fresh.Access), nil).Status(t, 200)
		env.Do(t, "GET", "/auth/check", bearer(mine.Access), nil).Error(t, 401, "Вы не авторизованы")
		env.Do(t, "GET", "/auth/check", bearer(next.Access), nil).Error(t, 401, "Вы не авторизованы")
	}
}

// Issue 19.2: tokens in the original's shape (sub + exp only, as the
// original or any tool holding the key mints) work for users the port
// created, on every instance, until the user's first revocation event. A
// caller holding such a token who changes their own password keeps that
// token; every other one ends.
func TestOriginalTokensWorkForPortUsersUntilRevoked(t *testing.T) {
	t.Parallel()
	a := apitest.NewWith(t, apitest.Options{Secret: vectorKey})
	b := a.Twin(t)
	admin := a.User(t, auth.Admin)
	a.Do(t, "POST", "/admin/users/", admin, map[string]any{"iin": "111111111111", "full_name": "Вектор", "password": "student-pass", "role": "student"}).Status(t, 200)
	exp := time.Now().Add(time.Hour).Unix()
	legacy := func(exp int64) apitest.User {
		return bearer(sign(t, jwt.SigningMethodHS256, []byte(vectorKey), jwt.MapClaims{"sub": "111111111111", "exp": exp}))
	}
	phone, laptop := legacy(exp), legacy(exp+1)
	for _, env := range []*apitest.Env{a, b} {
		env.Do(t, "GET", "/auth/check", bearer(vectorValidToken), nil).Status(t, 200)
		env.Do(t, "GET", "/auth/check", phone, nil).Status(t, 200)
		env.Do(t, "GET", "/auth/check", laptop, nil).Status(t, 200)
	}
	b.Do(t, "PATCH", "/user/change-password", phone, map[string]any{"old_password": "student-pass", "new_password": "other-pass"}).Status(t, 200)
	for _, env := range []*apitest.Env{a, b} {
		env.Do(t, "GET", "/auth/check", phone, nil).Status(t, 200)
		env.Do(t, "GET", "/auth/check", laptop, nil).Error(t, 401, "Вы не авторизованы")
		env.Do(t, "GET", "/auth/check", bearer(vectorValidToken), nil).Error(t, 401, "Вы не авторизованы")
	}
	// The reset by an admin ends the kept one too.
	a.Do(t, "PATCH", "/admin/users/reset_password", admin, map[string]any{"user_iin": "111111111111", "new_password": "reset-pass"}).Status(t, 200)
	for _, env := range []*apitest.Env{a, b} {
		env.Do(t, "GET", "/auth/check", phone, nil).Error(t, 401, "Вы не авторизованы")
	}
}

func TestAdminResetRevokesTokensEverywhere(t *testing.T) {
	t.Parallel()
	a := apitest.New(t)
	b := a.Twin(t)
	admin := a.User(t, auth.Admin)
	u := a.User(t, auth.Teacher)
	other := a.User(t, auth.Teacher)
	tk := loginTokens(t, b, u)

	a.Do(t, "PATCH", "/admin/users/reset_password", admin, map[string]any{"user_iin": u.IIN, "new_password": "reset-pass"}).Status(t, 200)

	b.Do(t, "GET", "/auth/check", u, nil).Error(t, 401, "Вы не авторизованы")
	b.Do(t, "GET", "/auth/check", bearer(tk.Access), nil).Error(t, 401, "Вы не авторизованы")
	refresh(t, a, tk.Refresh).Error(t, 401, msgBadRefresh)
	// Only that user's tokens.
	b.Do(t, "GET", "/auth/check", other, nil).Status(t, 200)
	b.Do(t, "GET", "/auth/check", admin, nil).Status(t, 200)
}

// A password hash rewritten without a user-visible event (a future
// rehash-on-login) revokes nothing: no trigger ties revocation to the hash.
func TestHashRewriteKeepsTokens(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Student)
	env.Exec(t, `UPDATE users SET hashed_password = hashed_password || '' WHERE id = $1`, u.ID)
	env.Do(t, "GET", "/auth/check", u, nil).Status(t, 200)
}

// A deleted user's tokens never authenticate the account later created with
// the same IIN, whether the port minted them (uid) or the original did (the
// IIN is remembered at deletion and the new row starts revoked).
func TestRecreatedIINRefusesOldTokens(t *testing.T) {
	t.Parallel()
	a := apitest.NewWith(t, apitest.Options{Secret: vectorKey})
	b := a.Twin(t)
	admin := a.User(t, auth.Admin)
	victim := a.User(t, auth.Teacher, apitest.WithIIN("111111111111"))
	tk := loginTokens(t, b, victim)
	b.Do(t, "GET", "/auth/check", bearer(vectorValidToken), nil).Status(t, 200)

	a.Do(t, "DELETE", "/admin/users/"+victim.IIN, admin, nil).Status(t, 200)
	b.Do(t, "GET", "/auth/check", victim, nil).Error(t, 401, "Пользователь не найден")
	refresh(t, a, tk.Refresh).Error(t, 401, msgBadRefresh)

	a.Do(t, "POST", "/admin/users/", admin, map[string]any{"iin": "111111111111", "full_name": "Новый", "password": "student-pass", "role": "student"}).Status(t, 200)
	for _, env := range []*apitest.Env{a, b} {
		env.Do(t, "GET", "/auth/check", victim, nil).Error(t, 401, "Пользователь не найден")
		env.Do(t, "GET", "/auth/check", bearer(tk.Access), nil).Error(t, 401, "Пользователь не найден")
		// An original-style token (sub and exp only) does not name the new identity.
		env.Do(t, "GET", "/auth/check", bearer(vectorValidToken), nil).Error(t, 401, "Вы не авторизованы")
	}
}

// The original's tokens keep working on an adopted row until the first
// revoking event, then stop.
func TestOriginalTokensEndWithPasswordChange(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{Secret: vectorKey})
	admin := env.User(t, auth.Admin)
	env.Exec(t, `INSERT INTO users (full_name, iin, role, hashed_password, token_version) VALUES ('Вектор', '111111111111', 'student', $1, NULL)`, vectorHash)
	env.Do(t, "GET", "/auth/check", bearer(vectorValidToken), nil).Status(t, 200)
	env.Do(t, "PATCH", "/admin/users/reset_password", admin, map[string]any{"user_iin": "111111111111", "new_password": "another"}).Status(t, 200)
	env.Do(t, "GET", "/auth/check", bearer(vectorValidToken), nil).Error(t, 401, "Вы не авторизованы")
}

// Claims that do not match the row are refused: another user's id under a
// valid sub, an older generation, a malformed uid.
func TestTokenClaimsCheckedAgainstRow(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Student)
	other := env.User(t, auth.Admin)
	exp := time.Now().Add(time.Hour).Unix()
	key := []byte(apitest.TestSecret)
	cases := []struct {
		claims jwt.MapClaims
		detail string
	}{
		{jwt.MapClaims{"sub": u.IIN, "exp": exp, "uid": other.ID, "ver": 1}, "Пользователь не найден"},
		{jwt.MapClaims{"sub": u.IIN, "exp": exp, "uid": u.ID, "ver": 0}, "Вы не авторизованы"},
		{jwt.MapClaims{"sub": u.IIN, "exp": exp, "uid": u.ID}, "Вы не авторизованы"},
		{jwt.MapClaims{"sub": u.IIN, "exp": exp, "uid": "x", "ver": 1}, "Вы не авторизованы"},
		{jwt.MapClaims{"sub": u.IIN, "exp": exp, "uid": u.ID, "ver": 1.5}, "Вы не авторизованы"},
	}
	for _, c := range cases {
		env.Do(t, "GET", "/auth/check", bearer(sign(t, jwt.SigningMethodHS256, key, c.claims)), nil).Error(t, 401, c.detail)
	}
	good := sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"sub": u.IIN, "exp": exp, "uid": u.ID, "ver": 1})
	env.Do(t, "GET", "/auth/check", bearer(good), nil).Status(t, 200)
}

func TestRefreshRotatesAcrossInstances(t *testing.T) {
	t.Parallel()
	a := apitest.New(t)
	b := a.Twin(t)
	u := a.User(t, auth.Teacher)
	first := loginTokens(t, a, u)

	var second tokens
	res := refresh(t, b, first.Refresh).Status(t, 200)
	res.Decode(t, &second)
	if m := res.Map(t); len(m) != 4 || m["token_type"] != "bearer" || m["must_change_password"] != false {
		t.Errorf("refresh body %s", res.Body)
	}
	if second.Refresh == first.Refresh || second.Refresh == "" {
		t.Fatalf("refresh token not rotated: %+v", second)
	}
	a.Do(t, "GET", "/auth/check", bearer(second.Access), nil).Status(t, 200)

	var third tokens
	refresh(t, a, second.Refresh).Status(t, 200).Decode(t, &third)

	// Reusing a rotated token revokes the whole family: the latest token too.
	refresh(t, b, first.Refresh).Error(t, 401, msgBadRefresh)
	refresh(t, a, third.Refresh).Error(t, 401, msgBadRefresh)
	if n := a.Count(t, `SELECT count(*) FROM refresh_families WHERE user_id = $1`, u.ID); n != 0 {
		t.Errorf("%d families left after reuse", n)
	}
	// Other logins (families) of the user are untouched.
	other := loginTokens(t, a, u)
	refresh(t, b, other.Refresh).Status(t, 200)
}

// Two uses of one token at once: the family lock serialises them, so exactly
// one rotates and the other is seen as a reuse, revoking the family.
func TestRefreshConcurrentReuse(t *testing.T) {
	t.Parallel()
	a := apitest.New(t)
	b := a.Twin(t)
	u := a.User(t, auth.Student)
	tk := loginTokens(t, a, u)

	body := `{"refresh_token":"` + tk.Refresh + `"}`
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i, env := range []*apitest.Env{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := env.Server.Client().Post(env.Server.URL+"/auth/refresh", "application/json", strings.NewReader(body))
			if err != nil {
				return // codes[i] stays 0: reported below
			}
			res.Body.Close()
			codes[i] = res.StatusCode
		}()
	}
	wg.Wait()
	if !(codes[0] == 200 && codes[1] == 401 || codes[0] == 401 && codes[1] == 200) {
		t.Fatalf("concurrent refresh statuses %v, want one 200 and one 401", codes)
	}
	if n := a.Count(t, `SELECT count(*) FROM refresh_families WHERE user_id = $1`, u.ID); n != 0 {
		t.Errorf("%d families left after concurrent reuse", n)
	}
}

func TestRefreshRefusals(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Student)
	tk := loginTokens(t, env, u)

	refresh(t, env, "not-a-token").Error(t, 401, msgBadRefresh)
	env.Do(t, "POST", "/auth/refresh", noToken, map[string]any{}).HasIssue(t, "missing", "body.refresh_token")
	env.Do(t, "POST", "/auth/refresh", noToken, map[string]any{"refresh_token": 5}).HasIssue(t, "string_type", "body.refresh_token")
	// An access token is no refresh token.
	refresh(t, env, tk.Access).Error(t, 401, msgBadRefresh)

	env.Exec(t, `UPDATE refresh_tokens SET expires_at = now() - interval '1 second'`)
	refresh(t, env, tk.Refresh).Error(t, 401, msgBadRefresh)

	// /auth/token starts a family too.
	var form tokens
	tokenForm(t, env, url.Values{"username": {u.IIN}, "password": {u.Password}}).Status(t, 200).Decode(t, &form)
	refresh(t, env, form.Refresh).Status(t, 200)
}

func TestRefreshTokenStoredHashed(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Student)
	tk := loginTokens(t, env, u)
	if n := env.Count(t, `SELECT count(*) FROM refresh_tokens WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, tk.Refresh); n != 1 {
		t.Errorf("stored hash rows %d, want the SHA-256 of the token", n)
	}
	if n := env.Count(t, `SELECT count(*) FROM refresh_tokens WHERE position(convert_to($1, 'UTF8') IN token_hash) > 0`, tk.Refresh); n != 0 {
		t.Errorf("token stored in clear")
	}
}

// Logout ends every session of the caller on every instance: refresh and
// access tokens alike (API.md §0.5.2); other users' sessions go on.
func TestLogoutEndsEverySessionEverywhere(t *testing.T) {
	t.Parallel()
	a := apitest.New(t)
	b := a.Twin(t)
	u := a.User(t, auth.Student)
	other := a.User(t, auth.Student)
	phone, laptop := loginTokens(t, a, u), loginTokens(t, b, u)
	keep := loginTokens(t, a, other)

	a.Do(t, "POST", "/auth/logout", noToken, nil).Error(t, 401, "Not authenticated")
	res := b.Do(t, "POST", "/auth/logout", bearer(phone.Access), nil).Status(t, 200)
	if string(res.Body) != `{"detail":"Сессии завершены"}` {
		t.Errorf("logout body %s", res.Body)
	}
	refresh(t, a, phone.Refresh).Error(t, 401, msgBadRefresh)
	refresh(t, a, laptop.Refresh).Error(t, 401, msgBadRefresh)
	refresh(t, b, keep.Refresh).Status(t, 200)
	for _, env := range []*apitest.Env{a, b} {
		for _, access := range []string{phone.Access, laptop.Access, u.Token} {
			env.Do(t, "GET", "/auth/check", bearer(access), nil).Error(t, 401, "Вы не авторизованы")
		}
		env.Do(t, "GET", "/auth/check", bearer(keep.Access), nil).Status(t, 200)
	}
	// Routing: a wrong method is 405, as every other route.
	if code := b.Do(t, "GET", "/auth/logout", u, nil).Code; code != http.StatusMethodNotAllowed {
		t.Errorf("GET /auth/logout: %d", code)
	}
}

// Coalesced lookups keep the uncached rule: while instance B answers a
// steady stream of /auth/check for a user (so its lookups are batched), the
// user's role changes in the database (as the original application or psql
// would change it); every request B receives after the change committed
// shows the new role, and other users in the same batches are unaffected.
func TestRoleChangeSeenByConcurrentLookupsOnAnotherInstance(t *testing.T) {
	t.Parallel()
	a := apitest.New(t)
	b := a.Twin(t)
	u := a.User(t, auth.Student)
	others := []apitest.User{a.User(t, auth.Student), a.User(t, auth.Admin)}

	type answer struct {
		started time.Time
		role    string
		err     error
	}
	stop := make(chan struct{})
	answers := make(chan answer, 1<<20)
	var wg sync.WaitGroup
	for i := range 8 {
		as := u
		if i%4 == 3 {
			as = others[i/4]
		}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				started := time.Now()
				res, err := b.Try("GET", "/auth/check", as, nil)
				var body struct {
					User struct{ IIN, Role string }
				}
				if err == nil && res.Code != 200 {
					err = fmt.Errorf("user %d: status %d: %s", as.ID, res.Code, res.Body)
				}
				if err == nil {
					err = json.Unmarshal(res.Body, &body)
				}
				if err == nil && body.User.IIN != as.IIN {
					err = fmt.Errorf("user %d got the check of %s", as.ID, body.User.IIN)
				}
				if err == nil && as.ID != u.ID && body.User.Role != string(as.Role) {
					err = fmt.Errorf("user %d: role %s, want %s", as.ID, body.User.Role, as.Role)
				}
				if err != nil || as.ID == u.ID {
					answers <- answer{started, body.User.Role, err}
				}
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	a.Exec(t, `UPDATE users SET role = 'teacher' WHERE id = $1`, u.ID)
	changed := time.Now()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(answers)

	var before, after int
	for ans := range answers {
		switch {
		case ans.err != nil:
			t.Error(ans.err)
		case ans.started.After(changed) && ans.role != "teacher":
			t.Errorf("request started %v after the change: role %s", ans.started.Sub(changed), ans.role)
		case ans.started.After(changed):
			after++
		case ans.role == "student":
			before++
		}
	}
	if before == 0 || after == 0 {
		t.Fatalf("%d answers before the change, %d after: the stream did not overlap it", before, after)
	}
}

// Issue 19.5: /auth/refresh reports must_change_password like the login, and
// "changing" the password to the same one is refused and keeps the flag.
func TestMustChangePasswordSurvivesRefreshAndSamePassword(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Student, apitest.WithPassword("990111"))
	env.Exec(t, `UPDATE users SET must_change_password = true WHERE id = $1`, u.ID)
	res := login(t, env, u.IIN, "990111").Status(t, 200)
	var tk tokens
	res.Decode(t, &tk)
	if m := res.Map(t); m["must_change_password"] != true {
		t.Fatalf("login: must_change_password %v", m["must_change_password"])
	}
	r := refresh(t, env, tk.Refresh).Status(t, 200)
	if m := r.Map(t); m["must_change_password"] != true {
		t.Errorf("refresh: must_change_password %v", m["must_change_password"])
	}
	r.Decode(t, &tk)
	// The same password is refused, also when it differs only past the 72
	// bytes bcrypt reads.
	long := strings.Repeat("п", 36) // 72 bytes
	env.Do(t, "PATCH", "/user/change-password", bearer(tk.Access), map[string]any{"old_password": "990111", "new_password": "990111"}).
		Error(t, 400, "Новый пароль должен отличаться от текущего")
	if n := env.Count(t, `SELECT count(*) FROM users WHERE id = $1 AND must_change_password`, u.ID); n != 1 {
		t.Error("the flag was cleared by a refused change")
	}
	env.Do(t, "GET", "/auth/check", bearer(tk.Access), nil).Status(t, 200)
	env.Do(t, "PATCH", "/user/change-password", bearer(tk.Access), map[string]any{"old_password": "990111", "new_password": long}).Status(t, 200)
	env.Do(t, "PATCH", "/user/change-password", bearer(tk.Access), map[string]any{"old_password": long, "new_password": long + "x"}).
		Error(t, 400, "Новый пароль должен отличаться от текущего")
	if n := env.Count(t, `SELECT count(*) FROM users WHERE id = $1 AND NOT must_change_password`, u.ID); n != 1 {
		t.Error("a real change kept the flag")
	}
	m := refresh(t, env, tk.Refresh).Status(t, 200).Map(t)
	if m["must_change_password"] != false {
		t.Errorf("refresh after the change: must_change_password %v", m["must_change_password"])
	}
}

package auth_test

import (
	"context"
	"encoding/base64"
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

// Values from ../shared/spec/vectors.md, made by the original's libraries.
const (
	vectorKey          = "vector-secret-key-0123456789abcdef"
	vectorHash         = "$2b$12$.t9K2HUjsEChIUATuyf0TuNxGWGm.71fhU/sn9yokd56yv5w5zIzi"
	vectorUnicodeHash  = "$2b$12$juXL/FxDirAKq5ymv5to.uRf.mNcGkVSsyJxmcPlr9MCUE3W3WOGq"
	vectorValidToken   = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMTExMTExMTExMTEiLCJleHAiOjQwNzA5MDg4MDB9.dQmQGX_bj7N_dVxFCmuA6QngKIHLYJi0ljIOeatxPK8"
	vectorExpiredToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMTExMTExMTExMTEiLCJleHAiOjE1Nzc4MzY4MDB9.UOXEtqzVXycspZgCgEfi6VTFLZ9Pb8Fnz6lXvOt71fY"
)

var noToken = apitest.User{}

func login(t *testing.T, env *apitest.Env, iin, password string) *apitest.Response {
	t.Helper()
	return env.Do(t, "POST", "/auth/login", noToken, map[string]any{"iin": iin, "password": password})
}

func tokenForm(t *testing.T, env *apitest.Env, form url.Values) *apitest.Response {
	t.Helper()
	return env.Send(t, apitest.Request{Method: "POST", Path: "/auth/token", Body: strings.NewReader(form.Encode()),
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}})
}

func bearer(token string) apitest.User { return apitest.User{Token: token} }

// The original's passlib hashes verify, at their own cost (12), and its
// PyJWT tokens are accepted or refused exactly as vectors.md says.
func TestVectors(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{Secret: vectorKey})
	env.Exec(t, `INSERT INTO users (full_name, iin, role, hashed_password) VALUES ('Вектор', '111111111111', 'student', $1)`, vectorHash)
	env.Exec(t, `INSERT INTO users (full_name, iin, role, hashed_password) VALUES ('Юникод', '222222222222', 'student', $1)`, vectorUnicodeHash)
	// As on a database adopted from the original: rows that existed before
	// migration 6 have no token generation (rows the port creates start at 1).
	env.Exec(t, `UPDATE users SET token_version = NULL`)

	login(t, env, "111111111111", "student-pass").Status(t, 200)
	login(t, env, "111111111111", "wrong").Error(t, 401, "Неправильный ИИН или пароль")
	login(t, env, "222222222222", "Пароль-123").Status(t, 200)

	res := env.Do(t, "GET", "/auth/check", bearer(vectorValidToken), nil).Status(t, 200)
	if got := string(res.Body); got != `{"status":"ok","user":{"iin":"111111111111","role":"student"},"must_change_password":false}` {
		t.Errorf("check body %s", got)
	}
	env.Do(t, "GET", "/auth/check", bearer(vectorExpiredToken), nil).Error(t, 401, "Вы не авторизованы")
}

// Tokens the port mints carry sub and exp as the original's (plus uid, ver,
// iat), HS256, verifiable with the key.
func TestMintedTokenShape(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Teacher)
	res := login(t, env, u.IIN, u.Password).Status(t, 200)
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	res.Decode(t, &body)
	if body.TokenType != "bearer" {
		t.Errorf("token_type %q", body.TokenType)
	}
	parts := strings.Split(body.AccessToken, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if string(header) != `{"alg":"HS256","typ":"JWT"}` {
		t.Errorf("header %s", header)
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(body.AccessToken, claims, func(*jwt.Token) (any, error) { return []byte(apitest.TestSecret), nil },
		jwt.WithValidMethods([]string{"HS256"}))
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := claims.GetExpirationTime()
	// sub and exp as the original's; uid, ver and iat added (issue 15), sid
	// the login's session (issue 19).
	sid, _ := claims["sid"].(float64)
	if len(claims) != 6 || claims["sub"] != u.IIN || claims["uid"] != float64(u.ID) || claims["ver"] != float64(1) ||
		claims["iat"] == nil || sid < 1 || time.Until(exp.Time) < 29*time.Minute || time.Until(exp.Time) > 31*time.Minute {
		t.Errorf("claims %v", claims)
	}
	env.Do(t, "GET", "/auth/check", bearer(body.AccessToken), nil).Status(t, 200)
}

func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenRefusals(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Student)
	exp := time.Now().Add(time.Hour).Unix()
	noneToken := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": u.IIN, "exp": exp})
	cases := []struct {
		name, header, detail string
	}{
		{"no header", "", "Not authenticated"},
		{"basic scheme", "Basic dXNlcjpwYXNz", "Not authenticated"},
		{"empty bearer", "Bearer ", "Вы не авторизованы"},
		{"garbage", "Bearer not.a.jwt", "Вы не авторизованы"},
		{"alg none", "Bearer " + noneToken, "Вы не авторизованы"},
		{"HS512", "Bearer " + sign(t, jwt.SigningMethodHS512, []byte(apitest.TestSecret), jwt.MapClaims{"sub": u.IIN, "exp": exp}), "Вы не авторизованы"},
		{"wrong key", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte("another-key-0123456789"), jwt.MapClaims{"sub": u.IIN, "exp": exp}), "Вы не авторизованы"},
		{"expired", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(apitest.TestSecret), jwt.MapClaims{"sub": u.IIN, "exp": time.Now().Add(-time.Second).Unix()}), "Вы не авторизованы"},
		{"no exp", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(apitest.TestSecret), jwt.MapClaims{"sub": u.IIN}), "Вы не авторизованы"},
		{"no sub", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(apitest.TestSecret), jwt.MapClaims{"exp": exp}), "Вы не авторизованы"},
		{"numeric sub", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(apitest.TestSecret), jwt.MapClaims{"sub": 5, "exp": exp}), "Вы не авторизованы"},
		{"unknown user", "Bearer " + sign(t, jwt.SigningMethodHS256, []byte(apitest.TestSecret), jwt.MapClaims{"sub": "000000000999", "exp": exp}), "Пользователь не найден"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := apitest.Request{Method: "GET", Path: "/auth/check", Header: http.Header{}}
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			res := env.Send(t, req)
			res.Error(t, 401, c.detail)
			if got := res.Header.Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate %q", got)
			}
		})
	}
	// The scheme is case-insensitive.
	env.Send(t, apitest.Request{Method: "GET", Path: "/auth/check", Header: http.Header{"Authorization": {"bEaReR " + u.Token}}}).Status(t, 200)
	// A deleted user's token stops working.
	env.Exec(t, `DELETE FROM users WHERE id = $1`, u.ID)
	env.Do(t, "GET", "/auth/check", u, nil).Error(t, 401, "Пользователь не найден")
}

func TestLogin(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Student, apitest.WithName("Иванов  Иван Иванович "))
	env.Exec(t, `UPDATE users SET phone = '+77010000000', photo = 'static/photos/1_a.png' WHERE id = $1`, u.ID)

	res := login(t, env, u.IIN, u.Password).Status(t, 200)
	var body struct {
		AccessToken string         `json:"access_token"`
		TokenType   string         `json:"token_type"`
		User        map[string]any `json:"user"`
	}
	res.Decode(t, &body)
	want := map[string]any{"id": float64(u.ID), "iin": u.IIN, "role": "student", "phone": "+77010000000",
		"photo": "static/photos/1_a.png", "full_name": "Иванов  Иван Иванович ", "short_name": "Иванов И. И."}
	if fmt.Sprint(body.User) != fmt.Sprint(want) || body.TokenType != "bearer" || body.AccessToken == "" {
		t.Errorf("login body %s", res.Body)
	}

	login(t, env, u.IIN, "wrong-password").Error(t, 401, "Неправильный ИИН или пароль")
	login(t, env, "000000000000", "whatever").Error(t, 401, "Неправильный ИИН или пароль")

	res = env.Do(t, "POST", "/auth/login", noToken, map[string]any{"iin": "12345", "password": "x"})
	is := res.HasIssue(t, "string_pattern_mismatch", "body.iin")
	if is.Input != "12345" || is.Ctx["pattern"] != `^\d{12}$` {
		t.Errorf("issue %+v", is)
	}
	env.Do(t, "POST", "/auth/login", noToken, map[string]any{"iin": u.IIN}).HasIssue(t, "missing", "body.password")
	env.Do(t, "POST", "/auth/login", noToken, map[string]any{"iin": u.IIN, "password": 123}).HasIssue(t, "string_type", "body.password")
	env.Do(t, "POST", "/auth/login", noToken, nil).HasIssue(t, "missing", "body")
	env.Do(t, "POST", "/auth/login", noToken, `{"iin": "`).HasIssue(t, "json_invalid", "body.9")
	// Validation failures are not counted by the throttle.
	if n := env.Count(t, `SELECT count(*) FROM login_attempts WHERE iin = '12345'`); n != 0 {
		t.Errorf("422 counted: %d rows", n)
	}
}

// A stored value that is not a bcrypt hash never verifies (and never 500s);
// only the first 72 bytes of a password count, as with passlib.
func TestPasswordEdgeCases(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Exec(t, `INSERT INTO users (full_name, iin, role, hashed_password) VALUES ('Плохой хеш', '333333333333', 'student', 'plain-text')`)
	login(t, env, "333333333333", "plain-text").Error(t, 401, "Неправильный ИИН или пароль")

	long := strings.Repeat("я", 36) // 72 bytes
	u := env.User(t, auth.Student, apitest.WithPassword(long+"tail"))
	login(t, env, u.IIN, long).Status(t, 200)
	login(t, env, u.IIN, long+"other tail").Status(t, 200)

	hash, err := env.Hasher.Hash(context.Background(), "secret")
	if err != nil || !strings.HasPrefix(hash, "$2b$04$") {
		t.Errorf("hash %q, %v: want passlib's $2b$ prefix at the configured cost", hash, err)
	}
	// $2a$ and $2y$ spellings of the same hash verify too.
	for _, prefix := range []string{"$2a$", "$2y$"} {
		ok, err := env.Hasher.Verify(context.Background(), prefix+hash[4:], "secret")
		if !ok || err != nil {
			t.Errorf("%s variant: %v %v", prefix, ok, err)
		}
	}
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Admin)
	res := tokenForm(t, env, url.Values{"username": {u.IIN}, "password": {u.Password}, "grant_type": {"password"}}).Status(t, 200)
	m := res.Map(t)
	if len(m) != 4 || m["token_type"] != "bearer" || m["access_token"] == "" || m["refresh_token"] == "" || m["must_change_password"] != false {
		t.Errorf("token body %s", res.Body)
	}
	tokenForm(t, env, url.Values{"username": {u.IIN}, "password": {"nope"}}).Error(t, 401, "Неверный ИИН или пароль")
	tokenForm(t, env, url.Values{"username": {strings.Repeat("1", 65)}, "password": {"x"}}).Error(t, 401, "Неверный ИИН или пароль")
	if n := env.Count(t, `SELECT count(*) FROM login_attempts WHERE length(iin) > 64`); n != 0 {
		t.Errorf("long username counted")
	}
	res = tokenForm(t, env, url.Values{})
	res.HasIssue(t, "missing", "body.username")
	res.HasIssue(t, "missing", "body.password")
	tokenForm(t, env, url.Values{"username": {u.IIN}, "password": {u.Password}, "grant_type": {"client_credentials"}}).
		HasIssue(t, "string_pattern_mismatch", "body.grant_type")

	// Legacy short IINs (older Excel imports) can still use /auth/token.
	legacy := env.User(t, auth.Student, apitest.WithIIN("12345678901"))
	tokenForm(t, env, url.Values{"username": {legacy.IIN}, "password": {legacy.Password}}).Status(t, 200)

	// Multipart works as well.
	body := "--X\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n" + u.IIN +
		"\r\n--X\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n" + u.Password + "\r\n--X--\r\n"
	env.Send(t, apitest.Request{Method: "POST", Path: "/auth/token", Body: strings.NewReader(body),
		Header: http.Header{"Content-Type": {"multipart/form-data; boundary=X"}}}).Status(t, 200)
}

// FastAPI reads an empty form field as absent: an empty username or
// password is 422 missing (and counts no attempt), an empty grant_type is no
// grant_type; a repeated field counts with its last value (Starlette's FormData).
func TestTokenEmptyFields(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Admin)
	res := tokenForm(t, env, url.Values{"username": {""}, "password": {""}})
	for _, loc := range []string{"body.username", "body.password"} {
		if is := res.HasIssue(t, "missing", loc); is.Input != nil {
			t.Errorf("%s: input %v, want null", loc, is.Input)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM login_attempts`); n != 0 {
		t.Errorf("empty username counted: %d rows", n)
	}
	tokenForm(t, env, url.Values{"username": {u.IIN}, "password": {u.Password}, "grant_type": {""}}).Status(t, 200)
	tokenForm(t, env, url.Values{"username": {"000000000000", u.IIN}, "password": {"wrong", u.Password}}).Status(t, 200)
}

func TestCheckRequiresToken(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Do(t, "GET", "/auth/check", noToken, nil).Error(t, 401, "Not authenticated")
}

// The 5th consecutive failure answers 401 and locks; then 403 even with the
// right password; the lock ends after 5 minutes; success resets the count;
// /auth/login and /auth/token share the counter (API.md §0.5.4).
func TestThrottle(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Student)
	for i := 1; i <= 5; i++ {
		login(t, env, u.IIN, "bad").Error(t, 401, "Неправильный ИИН или пароль")
	}
	login(t, env, u.IIN, u.Password).Error(t, 403, "Превышено число попыток.Повторите через 5 мин.")
	tokenForm(t, env, url.Values{"username": {u.IIN}, "password": {u.Password}}).Error(t, 403, "Превышено число попыток.Повторите через 5 мин.")

	// Minutes are rounded up: 61 seconds left → 2.
	env.Exec(t, `UPDATE login_attempts SET locked_until = now() + interval '61 seconds' WHERE iin = $1`, u.IIN)
	login(t, env, u.IIN, u.Password).Error(t, 403, "Превышено число попыток.Повторите через 2 мин.")
	env.Exec(t, `UPDATE login_attempts SET locked_until = now() + interval '5 seconds' WHERE iin = $1`, u.IIN)
	login(t, env, u.IIN, u.Password).Error(t, 403, "Превышено число попыток.Повторите через 1 мин.")

	// The lock ends: counting restarts, a wrong password is one failure again.
	env.Exec(t, `UPDATE login_attempts SET locked_until = now() - interval '1 second' WHERE iin = $1`, u.IIN)
	login(t, env, u.IIN, "bad").Error(t, 401, "Неправильный ИИН или пароль")
	if n := env.Count(t, `SELECT failed_count FROM login_attempts WHERE iin = $1`, u.IIN); n != 1 {
		t.Errorf("count after lock ended = %d, want 1", n)
	}
	// Success deletes the row.
	login(t, env, u.IIN, u.Password).Status(t, 200)
	if n := env.Count(t, `SELECT count(*) FROM login_attempts WHERE iin = $1`, u.IIN); n != 0 {
		t.Errorf("row kept after success")
	}
	// Four failures, a success, four more failures: never locked.
	for round := 0; round < 2; round++ {
		for i := 0; i < 4; i++ {
			login(t, env, u.IIN, "bad").Status(t, 401)
		}
		login(t, env, u.IIN, u.Password).Status(t, 200)
	}
	// A stale count (last failure over 15 minutes ago) restarts.
	for i := 0; i < 4; i++ {
		login(t, env, u.IIN, "bad").Status(t, 401)
	}
	env.Exec(t, `UPDATE login_attempts SET last_failed_at = now() - interval '16 minutes' WHERE iin = $1`, u.IIN)
	login(t, env, u.IIN, "bad").Status(t, 401)
	login(t, env, u.IIN, u.Password).Status(t, 200)
	// Unknown IINs are throttled too, and the 5th attempt with the right password still succeeds.
	for i := 0; i < 5; i++ {
		login(t, env, "000000000001", "x").Status(t, 401)
	}
	login(t, env, "000000000001", "x").Status(t, 403)
	for i := 0; i < 4; i++ {
		login(t, env, u.IIN, "bad").Status(t, 401)
	}
	login(t, env, u.IIN, u.Password).Status(t, 200)
}

// loginsAtOnce sends the logins concurrently (iins[i] with passwords[i])
// and returns how many answered each status; transport errors fail the test.
func loginsAtOnce(t *testing.T, env *apitest.Env, iins, passwords []string) map[int]int {
	t.Helper()
	type outcome struct {
		code int
		err  error
	}
	out := make(chan outcome, len(iins))
	var wg sync.WaitGroup
	for i := range iins {
		wg.Go(func() {
			res, err := env.Try("POST", "/auth/login", noToken, map[string]any{"iin": iins[i], "password": passwords[i]})
			if err != nil {
				out <- outcome{err: err}
				return
			}
			out <- outcome{code: res.Code}
		})
	}
	wg.Wait()
	close(out)
	count := map[int]int{}
	for o := range out {
		if o.err != nil {
			t.Fatal(o.err)
		}
		count[o.code]++
	}
	return count
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// The original's own load scenario logs every virtual user in with one
// account at once: correct logins of one IIN never refuse each other
// (API.md §0.5.4).
func TestConcurrentCorrectLoginsOfOneAccount(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{BcryptSlots: 4})
	u := env.User(t, auth.Student)
	const n = 40
	if count := loginsAtOnce(t, env, repeat(u.IIN, n), repeat(u.Password, n)); count[200] != n {
		t.Errorf("statuses %v, want %d×200", count, n)
	}
}

// Parallel guessing still verifies at most 5 wrong passwords per lock
// window: the rest are refused (403) without a bcrypt comparison.
func TestConcurrentWrongLoginsOfOneAccount(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{BcryptSlots: 4})
	u := env.User(t, auth.Student)
	const n = 40
	before := env.Hasher.Verifications()
	count := loginsAtOnce(t, env, repeat(u.IIN, n), repeat("bad", n))
	if verified := env.Hasher.Verifications() - before; verified != 5 {
		t.Errorf("%d wrong passwords verified, want 5", verified)
	}
	if count[401] != 5 || count[403] != n-5 {
		t.Errorf("statuses %v, want 5×401 and %d×403", count, n-5)
	}
	// Unknown IINs are bounded the same way.
	before = env.Hasher.Verifications()
	count = loginsAtOnce(t, env, repeat("000000000077", n), repeat("bad", n))
	if verified := env.Hasher.Verifications() - before; verified != 5 || count[401] != 5 || count[403] != n-5 {
		t.Errorf("unknown IIN: %d verified, statuses %v", verified, count)
	}
}

// A class of 60 logs in at the same instant with distinct accounts: every
// login is served (the bcrypt queue drains well within LOGIN_MAX_WAIT).
func TestClassroomBurst(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	const n = 60
	iins, passwords := make([]string, n), make([]string, n)
	for i := range n {
		u := env.User(t, auth.Student)
		iins[i], passwords[i] = u.IIN, u.Password
	}
	if count := loginsAtOnce(t, env, iins, passwords); count[200] != n {
		t.Errorf("statuses %v, want %d×200", count, n)
	}
	if n := env.Count(t, `SELECT count(*) FROM login_attempts`); n != 0 {
		t.Errorf("%d throttle rows after successful logins", n)
	}
}

// A crowd on one account waits for the account's budget under the same
// expected-wait rule as the bcrypt queue (issue 21): with a slow hash and a
// short LOGIN_MAX_WAIT, some logins are refused with 503 + Retry-After at
// once, the rest succeed, and none waits much past LOGIN_MAX_WAIT.
func TestLoginCrowdOfOneAccountIsShed(t *testing.T) {
	t.Parallel()
	const maxWait = 400 * time.Millisecond
	env := apitest.NewWith(t, apitest.Options{BcryptSlots: 1, BcryptCost: 10, LoginMaxWait: maxWait})
	u := env.User(t, auth.Student)
	// One login first, so the account's check time is measured (and the
	// test knows it: on a loaded machine a check alone may take seconds).
	start := time.Now()
	login(t, env, u.IIN, u.Password).Status(t, 200)
	check := time.Since(start)
	const n = 60
	type outcome struct {
		code  int
		retry string
		took  time.Duration
		err   error
	}
	out := make(chan outcome, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			start := time.Now()
			res, err := env.Try("POST", "/auth/login", noToken, map[string]any{"iin": u.IIN, "password": u.Password})
			if err != nil {
				out <- outcome{err: err}
				return
			}
			out <- outcome{code: res.Code, retry: res.Header.Get("Retry-After"), took: time.Since(start)}
		})
	}
	wg.Wait()
	close(out)
	count := map[int]int{}
	var longest time.Duration
	for o := range out {
		if o.err != nil {
			t.Fatal(o.err)
		}
		count[o.code]++
		if o.code == 503 && o.retry == "" {
			t.Errorf("503 without Retry-After")
		}
		longest = max(longest, o.took)
	}
	if count[200] == 0 || count[503] == 0 || count[200]+count[503] != n {
		t.Errorf("statuses %v, want 200s and 503s only", count)
	}
	// The wait is bounded by LOGIN_MAX_WAIT; the slack covers the check itself.
	if longest > maxWait+2*check+time.Second {
		t.Errorf("a login took %s with LOGIN_MAX_WAIT %s", longest, maxWait)
	}
	t.Logf("statuses %v, longest %s", count, longest)
}

// The anonymous auth routes read at most web.MaxAuthBody (issue 21): a
// larger body is a 413 before it is parsed.
func TestAuthBodyCap(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	big := `{"iin": "123456789012", "password": "x", "pad": "` + strings.Repeat("a", 16<<10) + `"}`
	for _, path := range []string{"/auth/login", "/auth/refresh"} {
		env.Send(t, apitest.Request{Method: "POST", Path: path, Body: strings.NewReader(big),
			Header: http.Header{"Content-Type": {"application/json"}}}).Status(t, 413)
	}
}

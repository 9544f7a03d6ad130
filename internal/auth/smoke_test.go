package auth_test

import (
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

func TestSmokeLogin(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	u := env.User(t, auth.Student, apitest.WithName("Иванов Иван Иванович"))
	res := env.Do(t, "POST", "/auth/login", apitest.User{}, map[string]any{"iin": u.IIN, "password": u.Password})
	res.Status(t, 200)
	t.Logf("%s", res.Body)
	env.Do(t, "GET", "/auth/check", u, nil).Status(t, 200)
	env.Do(t, "GET", "/nope", u, nil).Error(t, 404, "Not Found")
	env.Do(t, "POST", "/auth/login", apitest.User{}, `{"iin": 1`).Invalid(t)
	t.Logf("%s", env.Do(t, "POST", "/auth/login", apitest.User{}, `{"iin": 1`).Body)
	t.Logf("%s", env.Do(t, "POST", "/auth/login", apitest.User{}, `{"iin": "12"}`).Body)
}

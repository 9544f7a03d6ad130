package profile_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// Issue 21.5: POST /user/update-phone tells whether a number is taken, so
// it is limited per user: past the burst a user gets 429 with Retry-After,
// before the database is asked; another user is not affected.
func TestUpdatePhoneRateLimited(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	owner := env.User(t, auth.Student)
	env.Do(t, "POST", "/user/update-phone", owner, map[string]any{"phone": "+77010000009"}).Status(t, 200)
	prober := env.User(t, auth.Student)
	for i := range 20 {
		env.Do(t, "POST", "/user/update-phone", prober, map[string]any{"phone": fmt.Sprintf("+770100001%02d", i)}).Status(t, 200)
	}
	res := env.Do(t, "POST", "/user/update-phone", prober, map[string]any{"phone": "+77010000009"}).Status(t, 429)
	if res.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	env.Do(t, "POST", "/user/update-phone", owner, map[string]any{"phone": "+77010000008"}).Status(t, 200)
}

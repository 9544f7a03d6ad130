package admin_test

import (
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// TestAdminGuards: every admin endpoint refuses students and teachers with
// the admin text and answers 401 without a token, before reading the body.
func TestAdminGuards(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	student := env.User(t, auth.Student)
	teacher := env.User(t, auth.Teacher)
	endpoints := []struct{ method, path string }{
		{"POST", "/admin/users/"}, {"POST", "/admin/users"}, {"GET", "/admin/users/"}, {"GET", "/admin/users"},
		{"DELETE", "/admin/users/123456789012"}, {"PATCH", "/admin/users/reset_password"},
		{"POST", "/admin/groups/"}, {"GET", "/admin/groups"}, {"GET", "/admin/groups/1"},
		{"POST", "/admin/groups/1/users"}, {"GET", "/admin/groups/1/users"},
		{"DELETE", "/admin/groups/1/users/2"}, {"POST", "/admin/groups/upload-excel"},
		{"GET", "/admin/groups/imports"}, {"GET", "/admin/groups/imports/1"},
		{"DELETE", "/admin/groups/1"}, {"DELETE", "/admin/groups/1/with-users"},
		{"POST", "/admin/modules/"}, {"GET", "/admin/modules"}, {"GET", "/admin/modules/with-teachers"},
		{"PUT", "/admin/modules/1"}, {"DELETE", "/admin/modules/1"}, {"POST", "/admin/modules/1/subjects"},
		{"DELETE", "/admin/modules/subjects/1"},
	}
	for _, e := range endpoints {
		t.Run(e.method+" "+e.path, func(t *testing.T) {
			env.Do(t, e.method, e.path, student, nil).Error(t, 403, "Доступ воспрещен: только для администраторов")
			env.Do(t, e.method, e.path, teacher, nil).Error(t, 403, "Доступ воспрещен: только для администраторов")
			res := env.Do(t, e.method, e.path, apitest.User{}, nil)
			res.Error(t, 401, "Not authenticated")
			if res.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Fatalf("no Bearer challenge")
			}
		})
	}
	// /user and GET /admin/modules/{id}: any token, none → 401.
	for _, e := range []struct{ method, path string }{
		{"GET", "/user/by-iin/123456789012"}, {"POST", "/user/update-phone"},
		{"POST", "/user/upload-photo"}, {"PATCH", "/user/change-password"}, {"GET", "/admin/modules/1"},
	} {
		env.Do(t, e.method, e.path, apitest.User{}, nil).Error(t, 401, "Not authenticated")
	}
}

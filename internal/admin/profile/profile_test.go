package profile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

func TestUserByIIN(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	me := env.User(t, auth.Student)
	other := env.User(t, auth.Teacher, apitest.WithName("Петров Пётр"))
	res := env.Do(t, "GET", "/user/by-iin/"+other.IIN, me, nil)
	res.Status(t, 200)
	want := map[string]any{"id": float64(other.ID), "iin": other.IIN, "full_name": "Петров Пётр"}
	if got := res.Map(t); !equalJSON(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	env.Do(t, "GET", "/user/by-iin/000000000000", me, nil).Error(t, 404, "Пользователь не найден")
	env.Do(t, "GET", "/user/by-iin/abc", me, nil).Error(t, 404, "Пользователь не найден")
}

func TestUpdatePhone(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	me := env.User(t, auth.Student, apitest.WithName("Иванов Иван Иванович"))
	other := env.User(t, auth.Student)
	env.Exec(t, `UPDATE users SET phone = '+77010000002' WHERE id = $1`, other.ID)

	res := env.Do(t, "POST", "/user/update-phone", me, map[string]any{"phone": "  +77010000001 "})
	res.Status(t, 200)
	want := map[string]any{"user": map[string]any{"id": float64(me.ID), "iin": me.IIN, "role": "student",
		"phone": "+77010000001", "photo": nil, "full_name": "Иванов Иван Иванович", "short_name": "Иванов И. И."}}
	if got := res.Map(t); !equalJSON(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// Setting one's own number again is no conflict.
	env.Do(t, "POST", "/user/update-phone", me, map[string]any{"phone": "+77010000001"}).Status(t, 200)
	env.Do(t, "POST", "/user/update-phone", me, map[string]any{"phone": "+77010000002"}).Error(t, 400, "Этот номер уже используется")
	// Blank clears (NULL), so two users can both clear theirs.
	for _, u := range []apitest.User{me, other} {
		res = env.Do(t, "POST", "/user/update-phone", u, map[string]any{"phone": "   "})
		res.Status(t, 200)
		if p := res.Map(t)["user"].(map[string]any)["phone"]; p != nil {
			t.Fatalf("phone %v, want null", p)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE phone IS NOT NULL`); n != 0 {
		t.Fatalf("%d phones left", n)
	}
	env.Do(t, "POST", "/user/update-phone", me, map[string]any{"phone": strings.Repeat("1", 21)}).HasIssue(t, "string_too_long", "body.phone")
	env.Do(t, "POST", "/user/update-phone", me, map[string]any{"phone": " " + strings.Repeat("1", 20) + " "}).Status(t, 200)
	env.Do(t, "POST", "/user/update-phone", me, map[string]any{}).HasIssue(t, "missing", "body.phone")
	env.Do(t, "POST", "/user/update-phone", me, map[string]any{"phone": 7701}).HasIssue(t, "string_type", "body.phone")
	env.Do(t, "POST", "/user/update-phone", me, nil).HasIssue(t, "missing", "body")
}

func TestUploadPhoto(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	me := env.User(t, auth.Teacher, apitest.WithName("Админов Админ"))
	name := regexp.MustCompile(`^static/photos/` + itoa(me.ID) + `_[0-9a-f]{32}\.png$`)

	res := upload(t, env, "/user/upload-photo", me, "photo", "avatar.PNG", pngBytes)
	res.Status(t, 200)
	user := res.Map(t)["user"].(map[string]any)
	first, _ := user["photo"].(string)
	if !name.MatchString(first) || user["short_name"] != "Админов А." || user["role"] != "teacher" || user["id"] != float64(me.ID) {
		t.Fatalf("bad user block %v", user)
	}
	rel := strings.TrimPrefix(first, "static/")
	if got, err := os.ReadFile(filepath.Join(env.StaticDir, rel)); err != nil || !bytes.Equal(got, pngBytes) {
		t.Fatalf("stored file: %v", err)
	}
	// A second upload replaces the row and removes the old file after the commit.
	res = upload(t, env, "/user/upload-photo", me, "photo", "b.png", pngBytes)
	res.Status(t, 200)
	second := res.Map(t)["user"].(map[string]any)["photo"].(string)
	if second == first || !fileExists(env, strings.TrimPrefix(second, "static/")) || fileExists(env, rel) {
		t.Fatalf("old photo kept or new one missing: %s → %s", first, second)
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE id = $1 AND photo = $2`, me.ID, second); n != 1 {
		t.Fatal("row not updated")
	}

	gif := append([]byte("GIF89a"), make([]byte, 32)...)
	webp := append([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), make([]byte, 32)...)
	jpeg := append([]byte("\xff\xd8\xff\xe0"), make([]byte, 32)...)
	for _, ok := range []struct {
		name    string
		content []byte
	}{{"a.gif", gif}, {"a.webp", webp}, {"a.jpg", jpeg}, {"a.jpeg", jpeg}} {
		upload(t, env, "/user/upload-photo", me, "photo", ok.name, ok.content).Status(t, 200)
	}
	cases := []struct {
		name, filename string
		content        []byte
		status         int
		detail         string
	}{
		{"svg", "evil.svg", []byte("<svg/>"), 400, "Недопустимый тип файла: .svg"},
		{"no extension", "photo", pngBytes, 400, "Недопустимый тип файла: без расширения"},
		{"content is not an image", "fake.png", []byte("<html><script>alert(1)</script>"), 400, "Недопустимый тип файла: .png"},
		{"backslash", "a.p\\ng", pngBytes, 400, "Недопустимое имя файла"},
		{"too large", "big.png", append(pngBytes, make([]byte, 5<<20)...), 413, "Файл слишком большой (до 5 МБ)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			upload(t, env, "/user/upload-photo", me, "photo", c.filename, c.content).Error(t, c.status, c.detail)
		})
	}
	upload(t, env, "/user/upload-photo", me, "file", "a.png", pngBytes).HasIssue(t, "missing", "body.photo")
	env.Do(t, "POST", "/user/upload-photo", me, nil).HasIssue(t, "missing", "body.photo")
	// Only the last successful photo is on disk; refused uploads left nothing.
	entries, _ := os.ReadDir(filepath.Join(env.StaticDir, "photos"))
	if len(entries) != 1 {
		t.Fatalf("%d files in photos/, want 1", len(entries))
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	me := env.User(t, auth.Student, apitest.WithPassword("old-secret"))
	body := map[string]any{"old_password": "old-secret", "new_password": "new-secret"}
	res := env.Do(t, "PATCH", "/user/change-password", me, body)
	res.Status(t, 200)
	if got := res.Map(t); !equalJSON(got, map[string]any{"message": "Пароль успешно изменён"}) {
		t.Fatalf("got %v", got)
	}
	// The session that made the change keeps working (issue 19, API.md §0.5.2).
	env.Do(t, "GET", "/auth/check", me, nil).Status(t, 200)
	var tk struct {
		AccessToken string `json:"access_token"`
	}
	env.Do(t, "POST", "/auth/login", apitest.User{}, map[string]any{"iin": me.IIN, "password": "new-secret"}).Status(t, 200).Decode(t, &tk)
	me.Token = tk.AccessToken
	env.Do(t, "POST", "/auth/login", apitest.User{}, map[string]any{"iin": me.IIN, "password": "old-secret"}).Status(t, 401)

	env.Do(t, "PATCH", "/user/change-password", me, map[string]any{"old_password": "wrong-one", "new_password": "whatever"}).
		Error(t, 400, "Неверный текущий пароль")
	is := env.Do(t, "PATCH", "/user/change-password", me, map[string]any{"old_password": "12345", "new_password": "123456"}).
		HasIssue(t, "string_too_short", "body.old_password")
	if is.Msg != "String should have at least 6 characters" || is.Ctx["min_length"] != float64(6) {
		t.Fatalf("issue %+v", is)
	}
	env.Do(t, "PATCH", "/user/change-password", me, map[string]any{"old_password": "new-secret"}).HasIssue(t, "missing", "body.new_password")
}

// The current-password check is a password oracle: its failures count
// against the login throttle of the user's IIN (API.md §0.5.4), and a
// locked IIN gets the login's 403, also with the right password.
func TestChangePasswordThrottled(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	me := env.User(t, auth.Student, apitest.WithPassword("old-secret"))
	wrong := map[string]any{"old_password": "wrong-one", "new_password": "whatever"}
	for range 4 {
		env.Do(t, "PATCH", "/user/change-password", me, wrong).Error(t, 400, "Неверный текущий пароль")
	}
	// A login failure is the 5th of the same counter: locked.
	env.Do(t, "POST", "/auth/login", apitest.User{}, map[string]any{"iin": me.IIN, "password": "bad"}).Status(t, 401)
	locked := "Превышено число попыток.Повторите через 5 мин."
	env.Do(t, "PATCH", "/user/change-password", me, map[string]any{"old_password": "old-secret", "new_password": "new-secret"}).
		Error(t, 403, locked)
	env.Do(t, "POST", "/auth/login", apitest.User{}, map[string]any{"iin": me.IIN, "password": "old-secret"}).Error(t, 403, locked)

	// After the lock a correct check clears the counter, like a login.
	env.Exec(t, `UPDATE login_attempts SET locked_until = now() - interval '1 second' WHERE iin = $1`, me.IIN)
	env.Do(t, "PATCH", "/user/change-password", me, wrong).Status(t, 400)
	env.Do(t, "PATCH", "/user/change-password", me, map[string]any{"old_password": "old-secret", "new_password": "new-secret"}).Status(t, 200)
	if n := env.Count(t, `SELECT count(*) FROM login_attempts WHERE iin = $1`, me.IIN); n != 0 {
		t.Errorf("counter kept after a correct current password")
	}
}

// TestUploadPhotoRawFileName: the extension comes from the client's filename
// exactly as sent (API.md §0.7: the text after the last "/"), not from a name
// already reduced to its base, so "a.png/" has no extension.
func TestUploadPhotoRawFileName(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	me := env.User(t, auth.Student)
	for _, name := range []string{"a.png/", "dir/a.png//"} {
		upload(t, env, "/user/upload-photo", me, "photo", name, pngBytes).Error(t, 400, "Недопустимый тип файла: без расширения")
	}
	upload(t, env, "/user/upload-photo", me, "photo", "dir/a.png", pngBytes).Status(t, 200)
}

// TestUploadPhotoOldOutsidePhotos: the previous photo is removed only when
// it lies under photos/ (API.md §3); a stored string that climbs out of it
// with ".." names another file, which stays.
func TestUploadPhotoOldOutsidePhotos(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	me := env.User(t, auth.Student)
	writeFile(t, env, "lesson_docs/doc.pdf")
	env.Exec(t, `UPDATE users SET photo = 'static/photos/../lesson_docs/doc.pdf' WHERE id = $1`, me.ID)
	upload(t, env, "/user/upload-photo", me, "photo", "a.png", pngBytes).Status(t, 200)
	if !fileExists(env, "lesson_docs/doc.pdf") {
		t.Fatal("a file outside photos/ was removed as the old photo")
	}
}

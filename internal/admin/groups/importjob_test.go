package groups_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// An import's outcome is recorded: GET /admin/groups/imports/{import_id}
// answers the body upload-excel answered (admins only).
func TestImportJobReadBack(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	teacher := env.User(t, auth.Teacher)
	file := xlsx(t, []any{"Группа", "ИИН", "ФИО"}, []any{"ИС-31", "123456789012", "Иванов"}, []any{"ИС-31", "12", "Короткий"})
	res := upload(t, env, importPath, admin, "file", "класс.xlsx", file).Status(t, 200)
	body := res.Map(t)
	id := fmt.Sprint(body["import_id"])

	job := env.Do(t, "GET", "/admin/groups/imports/"+id, admin, nil).Status(t, 200).Map(t)
	if job["status"] != "done" || job["file_name"] != "класс.xlsx" || job["rows"] != float64(1) ||
		job["error"] != nil || job["finished_at"] == nil || !equalJSON(job["result"], body) {
		t.Errorf("job %v\nbody %v", job, body)
	}
	if list := env.Do(t, "GET", "/admin/groups/imports", admin, nil).Status(t, 200).List(t); len(list) != 1 || !equalJSON(list[0], job) {
		t.Errorf("list %v", list)
	}
	env.Do(t, "GET", "/admin/groups/imports/999999", admin, nil).Error(t, 404, "Импорт не найден")
	env.Do(t, "GET", "/admin/groups/imports/x", admin, nil).HasIssue(t, "int_parsing", "path.import_id")
	env.Do(t, "GET", "/admin/groups/imports/"+id, teacher, nil).Error(t, 403, "Доступ воспрещен: только для администраторов")
}

// Imported accounts get the IIN-derived default password hashed at
// DEFAULT_PASSWORD_COST and are marked must_change_password; the first
// successful login rehashes at BCRYPT_COST; a password change clears the mark.
func TestImportDefaultPasswords(t *testing.T) {
	t.Parallel()
	env := apitest.NewWith(t, apitest.Options{BcryptCost: 5, DefaultCost: 4})
	admin := env.User(t, auth.Admin)
	const iin = "123456789012"
	upload(t, env, importPath, admin, "file", "g.xlsx", xlsx(t, []any{"Группа", "ИИН", "ФИО"}, []any{"ИС-32", iin, "Иванов"})).Status(t, 200)
	hashCost := func() int {
		t.Helper()
		var hash string
		if err := env.Pool.QueryRow(context.Background(), `SELECT hashed_password FROM users WHERE iin = $1`, iin).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		c, err := bcrypt.Cost([]byte(hash))
		if err != nil || !strings.HasPrefix(hash, "$2b$") {
			t.Fatalf("stored hash %q: %v", hash, err)
		}
		return c
	}
	if c := hashCost(); c != 4 {
		t.Fatalf("imported hash cost %d, want DEFAULT_PASSWORD_COST 4", c)
	}
	login := func(password string) *apitest.Response {
		return env.Do(t, "POST", "/auth/login", apitest.User{}, map[string]any{"iin": iin, "password": password})
	}
	login("wrong-password").Status(t, 401)
	if c := hashCost(); c != 4 {
		t.Fatalf("a failed login rehashed (cost %d)", c)
	}
	var lb struct {
		AccessToken string `json:"access_token"`
		Must        bool   `json:"must_change_password"`
	}
	login("123012").Status(t, 200).Decode(t, &lb)
	if !lb.Must {
		t.Errorf("login after import: must_change_password false")
	}
	if c := hashCost(); c != 5 {
		t.Errorf("after the first login the hash cost is %d, want BCRYPT_COST 5", c)
	}
	me := apitest.User{Token: lb.AccessToken}
	if m := env.Do(t, "GET", "/auth/check", me, nil).Status(t, 200).Map(t); m["must_change_password"] != true {
		t.Errorf("check %v", m)
	}
	env.Do(t, "PATCH", "/user/change-password", me, map[string]any{"old_password": "123012", "new_password": "chosen-by-me"}).Status(t, 200)
	// A password change ends the account's tokens (issue 15): log in again.
	env.Do(t, "GET", "/auth/check", me, nil).Status(t, 401)
	login("chosen-by-me").Status(t, 200).Decode(t, &lb)
	if lb.Must || hashCost() != 5 {
		t.Errorf("after the change: must %v, cost %d", lb.Must, hashCost())
	}
	me = apitest.User{Token: lb.AccessToken}
	if m := env.Do(t, "GET", "/auth/check", me, nil).Status(t, 200).Map(t); m["must_change_password"] != false {
		t.Errorf("check after the change %v", m)
	}

	// An operator raising BCRYPT_COST upgrades older hashes on login too.
	old, err := bcrypt.GenerateFromPassword([]byte("old-pass"), 4)
	if err != nil {
		t.Fatal(err)
	}
	env.Exec(t, `UPDATE users SET hashed_password = $2 WHERE iin = $1`, iin, string(old))
	login("old-pass").Status(t, 200)
	if c := hashCost(); c != 5 {
		t.Errorf("older hash not upgraded: cost %d", c)
	}
}

// waitFor polls cond (every few milliseconds, up to 10 s): for states the
// server reaches on its own, observed through the database or its log.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// An import survives its client disconnecting mid-way (a proxy giving up):
// it is not rolled back, and its outcome can be read back.
func TestImportSurvivesDisconnect(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	rows := [][]any{{"Группа", "ИИН", "ФИО"}}
	for i := range 50 {
		rows = append(rows, []any{"Отключение", fmt.Sprintf("7000000000%02d", i), fmt.Sprintf("Студент %d", i)})
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "g.xlsx")
	fw.Write(xlsx(t, rows...))
	mw.Close()

	// Another transaction holds the group name, so the import's transaction
	// waits on it: the import is mid-way while the client goes.
	ctx := context.Background()
	conn := env.Conn(t)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO groups (name) VALUES ('Отключение')`); err != nil {
		t.Fatal(err)
	}

	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, _ := http.NewRequestWithContext(reqCtx, "POST", env.Server.URL+importPath, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+admin.Token)
	sent := make(chan error, 1)
	go func() {
		res, err := env.Server.Client().Do(req)
		if err == nil {
			res.Body.Close()
			err = fmt.Errorf("import answered %d before the client left", res.StatusCode)
		}
		sent <- err
	}()
	waitFor(t, "the import to wait for the group name", func() bool {
		return env.Count(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`) == 1
	})
	cancel()
	if err := <-sent; err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("client: %v, want its own cancellation", err)
	}
	waitFor(t, "the server to see the client leave", func() bool {
		return strings.Contains(env.Logs.String(), "client left; the import continues")
	})
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	list := env.Do(t, "GET", "/admin/groups/imports", admin, nil).Status(t, 200).List(t)
	if len(list) != 1 {
		t.Fatalf("imports %v", list)
	}
	id := int(list[0].(map[string]any)["id"].(float64))
	var job map[string]any
	waitFor(t, "the import to finish", func() bool {
		job = env.Do(t, "GET", fmt.Sprintf("/admin/groups/imports/%d", id), admin, nil).Status(t, 200).Map(t)
		return job["status"] != "running"
	})
	result, _ := job["result"].(map[string]any)
	if job["status"] != "done" || result["created"] != float64(50) ||
		result["message"] != "Создана группа 'Отключение' с 50 пользователями." {
		t.Fatalf("job %v", job)
	}
	if n := env.Count(t, `SELECT count(*) FROM users u JOIN user_group ug ON ug.user_id = u.id
		JOIN groups g ON g.id = ug.group_id WHERE g.name = 'Отключение' AND u.must_change_password`); n != 50 {
		t.Errorf("%d imported members, want 50", n)
	}
}

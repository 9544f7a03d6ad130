package admin_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"platform/internal/admin/internal/admintest"
	"platform/internal/apitest"
	"platform/internal/auth"
)

// TestUploadFieldCap: a non-file form field over 64 KiB is refused with the
// upload's 413 (API.md §0.7), even one the endpoint ignores.
func TestUploadFieldCap(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	me := env.User(t, auth.Admin)
	send := func(path, field, filename, detail string, content []byte) {
		t.Helper()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("note", strings.Repeat("x", 64<<10+1))
		fw, _ := mw.CreateFormFile(field, filename)
		fw.Write(content)
		mw.Close()
		h := http.Header{}
		h.Set("Content-Type", mw.FormDataContentType())
		env.Send(t, apitest.Request{Method: "POST", Path: path, Token: me.Token, Body: &body, Header: h}).Error(t, 413, detail)
	}
	send("/user/upload-photo", "photo", "a.png", "Файл слишком большой (до 5 МБ)", admintest.PNG)
	send("/admin/groups/upload-excel", "file", "g.xlsx", "Файл слишком большой (до 10 МБ)", admintest.XLSX(t, []any{"Группа", "ИИН", "ФИО"}, []any{"Г", "123456789012", "А"}))
}

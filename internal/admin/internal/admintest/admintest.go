// Package admintest holds the test helpers of admin's sub-packages: uploads,
// workbooks built with excelize, files under the static root, JSON
// comparison and a seeded course tree. Only tests import it.
package admintest

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"platform/internal/apitest"
)

// Upload sends a multipart body with one file part.
func Upload(t *testing.T, env *apitest.Env, path string, as apitest.User, field, filename string, content []byte) *apitest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	h := http.Header{}
	h.Set("Content-Type", mw.FormDataContentType())
	return env.Send(t, apitest.Request{Method: "POST", Path: path, Token: as.Token, Body: &body, Header: h})
}

// XLSX builds a workbook whose first sheet holds rows; a cell value of type
// string is written as text, numbers as numbers, nil left empty.
func XLSX(t testing.TB, rows ...[]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		for j, v := range row {
			if v == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellValue("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FileExists reports whether rel exists under the env's static root.
func FileExists(env *apitest.Env, rel string) bool {
	_, err := os.Stat(filepath.Join(env.StaticDir, rel))
	return err == nil
}

// WriteFile puts a file under the static root.
func WriteFile(t *testing.T, env *apitest.Env, rel string) {
	t.Helper()
	p := filepath.Join(env.StaticDir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// PNG is a minimal PNG signature followed by filler: enough for sniffing.
var PNG = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)

// EqualJSON compares two decoded JSON values.
func EqualJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// Itoa formats an id for a path.
func Itoa(n int32) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Tree is a seeded module → subject → lesson → test, with a group.
type Tree struct {
	Module, Subject, Lesson, Test, Group int32
}

// SeedTree creates a module with one subject taught by teacherID (0: none),
// one lesson, one test on it with a question and option, and a group.
func SeedTree(t *testing.T, env *apitest.Env, teacherID int32) Tree {
	t.Helper()
	var d Tree
	d.Module = env.ID(t, `INSERT INTO modules (title, course) VALUES ('Модуль', '1') RETURNING id`)
	var teacher any
	if teacherID != 0 {
		teacher = teacherID
	}
	d.Subject = env.ID(t, `INSERT INTO subjects (module_id, title, teacher_id) VALUES ($1, 'Предмет', $2) RETURNING id`, d.Module, teacher)
	d.Lesson = env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'Урок', 'video', 'https://v') RETURNING id`, d.Subject)
	d.Test = env.ID(t, `INSERT INTO tests (title, subject_id, lesson_id) VALUES ('Тест', $1, $2) RETURNING id`, d.Subject, d.Lesson)
	q := env.ID(t, `INSERT INTO questions (test_id, question_text, correct_option_index) VALUES ($1, '2+2?', 0) RETURNING id`, d.Test)
	env.Exec(t, `INSERT INTO options (question_id, option_text, option_index) VALUES ($1, '4', 0)`, q)
	d.Group = env.ID(t, `INSERT INTO groups (name) VALUES ('Группа '||gen_random_uuid()) RETURNING id`)
	return d
}

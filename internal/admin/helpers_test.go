package admin_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"platform/internal/apitest"
)

// upload sends a multipart body with one file part.
func upload(t *testing.T, env *apitest.Env, path string, as apitest.User, field, filename string, content []byte) *apitest.Response {
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

// xlsx builds a workbook whose first sheet holds rows; a cell value of type
// string is written as text, numbers as numbers, nil left empty.
func xlsx(t testing.TB, rows ...[]any) []byte {
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

// fileExists reports whether rel exists under the env's static root.
func fileExists(env *apitest.Env, rel string) bool {
	_, err := os.Stat(filepath.Join(env.StaticDir, rel))
	return err == nil
}

// writeFile puts a file under the static root.
func writeFile(t *testing.T, env *apitest.Env, rel string) {
	t.Helper()
	p := filepath.Join(env.StaticDir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pngBytes is a minimal PNG signature followed by filler: enough for sniffing.
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 64)...)

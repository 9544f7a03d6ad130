package server_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
	"platform/internal/web"
)

// TestHostileMemory replays issue 10's reproductions 2–4 at the caps and
// reports the server process's peak RSS (VmHWM; the server runs in this
// process), which must stay below 256 MB while /auth/check keeps
// answering. Opt-in (MEASURE_RSS=1): it writes 240 MB of rows and reads
// them back four times at once (about 7 minutes on a 2-core machine).
// Measured 2026-12-01 under make test's -race: 36 MiB after seeding, 139 MiB
// peak after 4 × (the teacher's 10,000-submission list, 201 MB streamed;
// the student's 20; my-modules with 40 capped lessons, 0.9 MB) and the
// Excel bomb (400).
func TestHostileMemory(t *testing.T) {
	if os.Getenv("MEASURE_RSS") != "1" {
		t.Skip("set MEASURE_RSS=1 to measure")
	}
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	teacher := env.User(t, auth.Teacher)
	student := env.User(t, auth.Student)
	module := env.ID(t, `INSERT INTO modules (title, description) VALUES ('М', repeat('о', $1)) RETURNING id`, web.MaxModuleDescription)
	subject := env.ID(t, `INSERT INTO subjects (module_id, teacher_id, title) VALUES ($1, $2, 'П') RETURNING id`, module, teacher.ID)
	group := env.ID(t, `INSERT INTO groups (name) VALUES ('Г') RETURNING id`)
	env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, student.ID, group)
	env.Exec(t, `INSERT INTO module_group (module_id, group_id) VALUES ($1, $2)`, module, group)
	// Reproduction 3 at the caps: 40 lessons with the longest content_url and description.
	env.Exec(t, `INSERT INTO lessons (subject_id, title, type, content_url, description)
		SELECT $1, 'У' || i, 'pdf', 'https://e.org/' || repeat('a', $2 - 14), repeat('д', $3) FROM generate_series(1, 40) i`,
		subject, web.MaxContentURL, web.MaxLessonDescription)
	lesson := env.ID(t, `SELECT min(id) FROM lessons`)
	// Reproduction 2 at the caps: 600 students × 20 submissions with the longest comment.
	env.Exec(t, `INSERT INTO users (iin, full_name, role, hashed_password)
		SELECT '8' || lpad(i::text, 11, '0'), 'Студент ' || i, 'student', 'x' FROM generate_series(1, 600) i`)
	env.Exec(t, `INSERT INTO lesson_submissions (lesson_id, user_id, comment, submitted_at)
		SELECT $1, u.id, repeat('к', $2), now() FROM users u, generate_series(1, 20) WHERE u.full_name LIKE 'Студент %'`, lesson, web.MaxComment)
	// The student's own list at the cap.
	env.Exec(t, `INSERT INTO lesson_submissions (lesson_id, user_id, comment, submitted_at)
		SELECT $1, $2, repeat('к', $3), now() FROM generate_series(1, 20)`, lesson, student.ID, web.MaxComment)
	before := peakRSS(t)

	var wg sync.WaitGroup
	errs := make(chan string, 64)
	get := func(path string, as apitest.User) {
		defer wg.Done()
		req, _ := http.NewRequest("GET", env.Server.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+as.Token)
		res, err := env.Server.Client().Do(req)
		if err != nil {
			errs <- err.Error()
			return
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			errs <- fmt.Sprintf("%s: %d", path, res.StatusCode)
		}
		errs <- fmt.Sprintf("ok %s %d bytes", path, n)
	}
	for range 4 {
		wg.Add(3)
		go get(fmt.Sprintf("/lessons/%d/my-submissions", lesson), student)
		go get(fmt.Sprintf("/lessons/%d/submissions/files", lesson), teacher)
		go get("/access/my-modules", student)
	}
	// Reproduction 4: a small workbook whose 4 MiB shared string is used by 40 rows.
	r := uploadFile(t, env, "/admin/groups/upload-excel", admin, "bomb.xlsx", bombWorkbook(t))
	env.Do(t, "GET", "/auth/check", student, nil).Status(t, 200)
	wg.Wait()
	close(errs)
	for e := range errs {
		if !strings.HasPrefix(e, "ok ") {
			t.Error(e)
		} else {
			t.Log(e)
		}
	}
	r.Error(t, 400, "Не удалось прочитать Excel-файл")
	env.Do(t, "GET", "/auth/check", student, nil).Status(t, 200)
	after := peakRSS(t)
	t.Logf("VmHWM after seeding %d MiB; after the reproductions %d MiB", before>>10, after>>10)
	if after > 256<<10 {
		t.Fatalf("peak RSS %d MiB ≥ 256 MiB", after>>10)
	}
}

func bombWorkbook(t *testing.T) []byte {
	t.Helper()
	var rows strings.Builder
	rows.WriteString(`<row r="1"><c t="inlineStr"><is><t>Группа</t></is></c><c t="inlineStr"><is><t>ИИН</t></is></c><c t="inlineStr"><is><t>ФИО</t></is></c></row>`)
	for i := 2; i < 42; i++ {
		fmt.Fprintf(&rows, `<row r="%d"><c t="inlineStr"><is><t>Г</t></is></c><c t="s"><v>0</v></c><c t="s"><v>0</v></c></row>`, i)
	}
	parts := map[string]string{
		"_rels/.rels":                `<Relationships><Relationship Id="r" Type="x/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<workbook xmlns:r="r"><sheets><sheet r:id="s"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships><Relationship Id="s" Type="x/worksheet" Target="sheet.xml"/><Relationship Id="t" Type="x/sharedStrings" Target="ss.xml"/></Relationships>`,
		"xl/ss.xml":                  "<sst><si><t>" + strings.Repeat("9", 4<<20) + "</t></si></sst>",
		"xl/sheet.xml":               "<worksheet><sheetData>" + rows.String() + "</sheetData></worksheet>",
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range parts {
		w, err := zw.Create(name)
		if err == nil {
			_, err = w.Write([]byte(body))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func uploadFile(t *testing.T, env *apitest.Env, path string, as apitest.User, name string, content []byte) *apitest.Response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, err := mw.CreateFormFile("file", name)
	if err == nil {
		_, err = w.Write(content)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Content-Type", mw.FormDataContentType())
	return env.Send(t, apitest.Request{Method: "POST", Path: path, Token: as.Token, Body: &body, Header: h})
}

// peakRSS is this process's VmHWM in KiB.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	fh, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc")
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatal("VmHWM not found")
	return 0
}

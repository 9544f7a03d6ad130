package lessons_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"platform/internal/apitest"
)

func TestSubmitHomework(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := fmt.Sprintf("/lessons/%d/submit-homework", f.lessonID)
	dir := fmt.Sprintf("homework/lesson_%d", f.lessonID)
	name := regexp.MustCompile(fmt.Sprintf(`^static/homework/lesson_%d/%d_[0-9a-f]{32}(\.[a-z]+)?$`, f.lessonID, f.student.ID))

	// stored returns the submission's file paths in order and its comment.
	latest := func(t *testing.T) (paths []string, comment *string) {
		t.Helper()
		var id int32
		err := f.env.Pool.QueryRow(t.Context(), `SELECT id, comment FROM lesson_submissions
			WHERE user_id = $1 AND grade IS NULL AND submitted_at > (now() AT TIME ZONE 'UTC') - interval '1 minute'
			ORDER BY id DESC LIMIT 1`, f.student.ID).Scan(&id, &comment)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := f.env.Pool.Query(t.Context(), `SELECT file_path FROM submission_files WHERE submission_id = $1 ORDER BY id`, id)
		for rows.Next() {
			var p string
			_ = rows.Scan(&p)
			paths = append(paths, p)
		}
		return paths, comment
	}

	t.Run("files and comment", func(t *testing.T) {
		res := upload(t, f.env, path, f.student,
			text("comment", "Готово"), file("files", "Отчёт.PDF", "pdf-bytes"), file("files", "../../etc/passwd", "pw"))
		m := res.Status(t, 200).Map(t)
		wantKeys(t, m, "detail", "count")
		if m["detail"] != "Файлы успешно загружены" || m["count"] != float64(2) {
			t.Fatalf("response %v", m)
		}
		paths, comment := latest(t)
		if len(paths) != 2 || comment == nil || *comment != "Готово" {
			t.Fatalf("rows: %v %v", paths, comment)
		}
		for _, p := range paths {
			if !name.MatchString(p) {
				t.Fatalf("stored name %q", p)
			}
		}
		if !strings.HasSuffix(paths[0], ".pdf") || filepath.Ext(paths[1]) != "" {
			t.Fatalf("extensions: %v", paths)
		}
		for i, want := range []string{"pdf-bytes", "pw"} {
			got, err := os.ReadFile(filepath.Join(f.env.StaticDir, strings.TrimPrefix(paths[i], "static/")))
			if err != nil || string(got) != want {
				t.Fatalf("file %d: %q %v", i, got, err)
			}
		}
	})
	t.Run("comment only", func(t *testing.T) {
		m := upload(t, f.env, path, f.student, text("comment", "Без файлов")).Status(t, 200).Map(t)
		if m["count"] != float64(0) {
			t.Fatalf("count %v", m["count"])
		}
		if paths, comment := latest(t); len(paths) != 0 || *comment != "Без файлов" {
			t.Fatalf("rows %v %v", paths, *comment)
		}
	})
	t.Run("untouched file input ignored; nameless content kept", func(t *testing.T) {
		m := upload(t, f.env, path, f.student,
			file("files", "", ""), file("files", "", "data"), text("comment", "x")).Status(t, 200).Map(t)
		if m["count"] != float64(1) {
			t.Fatalf("count %v", m["count"])
		}
		if paths, _ := latest(t); len(paths) != 1 || filepath.Ext(paths[0]) != "" {
			t.Fatalf("paths %v", paths)
		}
	})
	t.Run("five files and an empty input", func(t *testing.T) {
		parts := []part{file("files", "", "")}
		for i := range 5 {
			parts = append(parts, file("files", fmt.Sprintf("%d.txt", i), "x"))
		}
		upload(t, f.env, path, f.student, parts...).Status(t, 200)
	})
	t.Run("any role that reads the lesson", func(t *testing.T) {
		for _, u := range []apitest.User{f.admin, f.teacher, f.other} {
			upload(t, f.env, path, u, file("files", "a.exe", "x")).Status(t, 200)
		}
	})

	// The refusals leave no file and no row behind.
	refusals := []struct {
		name   string
		as     apitest.User
		path   string
		parts  []part
		status int
		detail string
	}{
		{"nothing", f.student, path, []part{file("files", "", ""), text("comment", "  \t\n")}, 400, "Добавьте файл или комментарий"},
		{"empty body", f.student, path, nil, 400, "Добавьте файл или комментарий"},
		{"sixth file", f.student, path, []part{file("files", "1.txt", "1"), file("files", "2.txt", "2"), file("files", "3.txt", "3"),
			file("files", "4.txt", "4"), file("files", "5.txt", "5"), file("files", "6.txt", "6")}, 400, "Можно приложить не более 5 файлов"},
		{"bad name", f.student, path, []part{file("files", "ok.txt", "1"), file("files", `x.p\df`, "2")}, 400, "Недопустимое имя файла"},
		{"control character", f.student, path, []part{{field: "files", file: true, body: strings.NewReader("2"),
			header: `form-data; name="files"; filename*=utf-8''x.p%01df`}}, 400, "Недопустимое имя файла"},
		{"malformed part header", f.student, path, []part{{field: "files", file: true, body: strings.NewReader("2"),
			header: "form-data; name=\"files\"; filename=\"x.p\x01df\""}}, 400, "Некорректные данные формы"},
		{"over 20 MiB in total", f.student, path, []part{bigFile("files", "a.bin", 8<<20), bigFile("files", "b.bin", 8<<20),
			bigFile("files", "c.bin", 8<<20)}, 413, "Суммарный размер файлов превышает 20 МБ"},
		{"one file over 20 MiB", f.student, path, []part{bigFile("files", "a.bin", 20<<20+1)}, 413, "Суммарный размер файлов превышает 20 МБ"},
		{"comment over 64 KiB", f.student, path, []part{file("files", "a.txt", "1"), text("comment", strings.Repeat("я", 40<<10))}, 413, "Суммарный размер файлов превышает 20 МБ"},
		{"student without access", f.outsider, path, []part{text("comment", "x")}, 403, "Нет доступа к уроку"},
		{"missing lesson", f.student, "/lessons/999999/submit-homework", []part{text("comment", "x")}, 404, "Урок не найден"},
		{"no token", apitest.User{}, path, []part{text("comment", "x")}, 401, "Not authenticated"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			files := len(f.files(t, dir))
			rows := f.env.Count(t, `SELECT count(*) FROM lesson_submissions`)
			upload(t, f.env, tc.path, tc.as, tc.parts...).Error(t, tc.status, tc.detail)
			if n := len(f.files(t, dir)); n != files {
				t.Fatalf("files %d → %d: %v", files, n, f.files(t, dir))
			}
			if n := f.env.Count(t, `SELECT count(*) FROM lesson_submissions`); n != rows {
				t.Fatal("a refused upload left a row")
			}
		})
	}
	t.Run("Content-Length over the limit", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		w, _ := mw.CreateFormFile("files", "big.bin")
		_, _ = w.Write(bytes.Repeat([]byte{'x'}, 21<<20))
		_ = mw.Close()
		f.env.Send(t, apitest.Request{Method: "POST", Path: path, Token: f.student.Token, Body: &buf,
			Header: http.Header{"Content-Type": {mw.FormDataContentType()}}}).
			Error(t, 413, "Суммарный размер файлов превышает 20 МБ")
	})
	t.Run("422", func(t *testing.T) {
		upload(t, f.env, "/lessons/abc/submit-homework", f.student, text("comment", "x")).
			HasIssue(t, "int_parsing", "path.lesson_id")
	})
}

// A comment is text: NUL (which PostgreSQL text cannot hold) is refused
// with a 422 instead of a 500, and bytes that are not UTF-8 are read as
// Latin-1, as Starlette's form parser does, instead of failing in the database.
func TestSubmitHomeworkCommentEncoding(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := fmt.Sprintf("/lessons/%d/submit-homework", f.lessonID)
	dir := fmt.Sprintf("homework/lesson_%d", f.lessonID)

	is := upload(t, f.env, path, f.student, file("files", "a.txt", "x"), text("comment", "a\x00b")).
		HasIssue(t, "value_error", "body.comment")
	if is.Msg != "Value error, строка не должна содержать символ NUL" || is.Input != "a\x00b" {
		t.Fatalf("issue %+v", is)
	}
	if n := len(f.files(t, dir)); n != 0 {
		t.Fatalf("files left: %v", f.files(t, dir))
	}
	if n := f.env.Count(t, `SELECT count(*) FROM lesson_submissions`); n != 0 {
		t.Fatal("a refused upload left a row")
	}

	upload(t, f.env, path, f.student, text("comment", "caf\xe9 \xff")).Status(t, 200)
	var comment string
	if err := f.env.Pool.QueryRow(t.Context(), `SELECT comment FROM lesson_submissions`).Scan(&comment); err != nil {
		t.Fatal(err)
	}
	if comment != "café ÿ" {
		t.Fatalf("comment %q", comment)
	}
}

func TestMySubmissions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	first := f.submission(t, f.lessonID, f.student.ID, "static/homework/a.txt", "static/homework/b.txt")
	second := f.env.ID(t, `INSERT INTO lesson_submissions (lesson_id, user_id, comment, grade, submitted_at)
		VALUES ($1, $2, NULL, 5, '2025-06-06 10:00:00.5') RETURNING id`, f.lessonID, f.student.ID)
	f.submission(t, f.lessonID, f.outsider.ID, "static/homework/c.txt")

	list := f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d/my-submissions", f.lessonID), f.student, nil).Status(t, 200).List(t)
	if len(list) != 2 {
		t.Fatalf("%d submissions, want 2", len(list))
	}
	newest, older := list[0].(map[string]any), list[1].(map[string]any)
	wantKeys(t, newest, "id", "lesson_id", "user_id", "files", "comment", "grade", "student_name", "submitted_at",
		"due_at", "cutoff_at", "late", "late_seconds")
	if newest["id"] != float64(second) || newest["grade"] != float64(5) || newest["comment"] != nil ||
		newest["submitted_at"] != "2025-06-06T10:00:00.5Z" || len(newest["files"].([]any)) != 0 || newest["student_name"] != nil {
		t.Fatalf("newest %v", newest)
	}
	files := older["files"].([]any)
	if older["id"] != float64(first) || older["comment"] != "Готово" || older["grade"] != nil ||
		older["lesson_id"] != float64(f.lessonID) || older["user_id"] != float64(f.student.ID) || len(files) != 2 {
		t.Fatalf("older %v", older)
	}
	f0 := files[0].(map[string]any)
	wantKeys(t, f0, "id", "file_path")
	if f0["file_path"] != "static/homework/a.txt" || files[1].(map[string]any)["file_path"] != "static/homework/b.txt" {
		t.Fatalf("files %v", files)
	}

	if got := string(f.env.Do(t, "GET", "/lessons/999999/my-submissions", f.student, nil).Status(t, 200).Body); got != "[]" {
		t.Fatalf("unknown lesson: %s", got)
	}
	f.env.Do(t, "GET", "/lessons/x/my-submissions", f.student, nil).HasIssue(t, "int_parsing", "path.lesson_id")
	f.env.Do(t, "GET", "/lessons/1/my-submissions", apitest.User{}, nil).Error(t, 401, "Not authenticated")
}

func TestLessonSubmissions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a := f.submission(t, f.lessonID, f.student.ID, "static/homework/a.txt")
	b := f.submission(t, f.lessonID, f.outsider.ID)
	pct := f.env.User(t, "student", apitest.WithName("Сто%_Процентов"))
	c := f.submission(t, f.lessonID, pct.ID)
	f.submission(t, f.lessonID+0, f.student.ID) // a second one by the same student
	other := f.lesson(t, f.subjectID, "x")
	f.submission(t, other, f.student.ID)
	path := fmt.Sprintf("/lessons/%d/submissions/files", f.lessonID)

	t.Run("teacher: all, by id, with names", func(t *testing.T) {
		list := f.env.Do(t, "GET", path, f.teacher, nil).Status(t, 200).List(t)
		if len(list) != 4 {
			t.Fatalf("%d rows", len(list))
		}
		first := list[0].(map[string]any)
		wantKeys(t, first, "id", "lesson_id", "user_id", "files", "comment", "grade", "student_name", "submitted_at",
			"due_at", "cutoff_at", "late", "late_seconds")
		if first["id"] != float64(a) || first["student_name"] != "Иванов Иван Иванович" ||
			first["submitted_at"] != "2025-06-05T10:00:00Z" || len(first["files"].([]any)) != 1 {
			t.Fatalf("first %v", first)
		}
		if list[1].(map[string]any)["id"] != float64(b) || list[2].(map[string]any)["id"] != float64(c) {
			t.Fatalf("order %v", list)
		}
	})
	for _, tc := range []struct {
		search string
		want   []int32
	}{
		{"иВАН", []int32{a, a + 3}},
		{"ПЁТР", []int32{b}},
		{"%", []int32{c}},
		{"_", []int32{c}},
		{"о%_п", []int32{c}},
		{"нет такого", nil},
	} {
		t.Run("search "+tc.search, func(t *testing.T) {
			q := path + "?search=" + urlQuery(tc.search)
			list := f.env.Do(t, "GET", q, f.admin, nil).Status(t, 200).List(t)
			if len(list) != len(tc.want) {
				t.Fatalf("got %v, want ids %v", list, tc.want)
			}
			for i, id := range tc.want {
				if list[i].(map[string]any)["id"] != float64(id) {
					t.Fatalf("got %v, want ids %v", list, tc.want)
				}
			}
		})
	}
	// The query string is read as Starlette reads it: the last of repeated
	// parameters counts, and a "%" that starts no valid escape is literal.
	for _, tc := range []struct {
		name, query string
		want        []int32
	}{
		{"repeated: the last counts", "?search=zzz&search=%D0%BF%D1%91%D1%82%D1%80", []int32{b}},
		{"repeated: a last empty one is no filter", "?search=zzz&search=", []int32{a, b, c, a + 3}},
		{"invalid escape kept literally", "?search=%D0%BE%_%D0%BF", []int32{c}},
		{"plus is a space", "?search=%D0%B8%D0%B2%D0%B0%D0%BD+%D0%B8%D0%B2", []int32{a, a + 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list := f.env.Do(t, "GET", path+tc.query, f.admin, nil).Status(t, 200).List(t)
			if len(list) != len(tc.want) {
				t.Fatalf("got %v, want ids %v", list, tc.want)
			}
			for i, id := range tc.want {
				if list[i].(map[string]any)["id"] != float64(id) {
					t.Fatalf("got %v, want ids %v", list, tc.want)
				}
			}
		})
	}
	t.Run("empty search is no filter", func(t *testing.T) {
		if n := len(f.env.Do(t, "GET", path+"?search=", f.admin, nil).Status(t, 200).List(t)); n != 4 {
			t.Fatalf("%d rows", n)
		}
	})
	t.Run("empty list", func(t *testing.T) {
		empty := f.lesson(t, f.subjectID, "y")
		body := f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d/submissions/files", empty), f.teacher, nil).Status(t, 200).Body
		if string(body) != "[]" {
			t.Fatalf("body %s", body)
		}
	})
}

func urlQuery(s string) string {
	return strings.NewReplacer("%", "%25", " ", "%20", "_", "%5F").Replace(s)
}

func TestDeleteSubmission(t *testing.T) {
	t.Parallel()
	f := setup(t)
	hw := func(u apitest.User) (int32, string) {
		p := fmt.Sprintf("static/homework/lesson_%d/%d_%d.txt", f.lessonID, u.ID, f.env.Count(t, `SELECT count(*) FROM submission_files`))
		return f.submission(t, f.lessonID, u.ID, p), strings.TrimPrefix(p, "static/")
	}
	t.Run("owner; files removed after the commit", func(t *testing.T) {
		id, rel := hw(f.student)
		f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/submission/%d", id), f.student, nil).Error(t, 200, "Работа удалена")
		if n := f.env.Count(t, `SELECT count(*) FROM lesson_submissions WHERE id = $1`, id) +
			f.env.Count(t, `SELECT count(*) FROM submission_files WHERE submission_id = $1`, id); n != 0 {
			t.Fatal("rows left")
		}
		f.env.WaitJobs(t) // the removal is a job queued with the delete
		if f.exists(rel) {
			t.Fatal("file left")
		}
	})
	t.Run("admin deletes anyone's", func(t *testing.T) {
		id, rel := hw(f.student)
		f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/submission/%d", id), f.admin, nil).Error(t, 200, "Работа удалена")
		f.env.WaitJobs(t) // the removal is a job queued with the delete
		if f.exists(rel) {
			t.Fatal("file left")
		}
	})
	id, rel := hw(f.student)
	for _, tc := range []struct {
		name   string
		as     apitest.User
		path   string
		status int
		detail string
	}{
		{"another student", f.outsider, fmt.Sprintf("/lessons/submission/%d", id), 403, "Недостаточно прав"},
		{"the subject's teacher", f.teacher, fmt.Sprintf("/lessons/submission/%d", id), 403, "Недостаточно прав"},
		{"missing", f.student, "/lessons/submission/999999", 404, "Работа не найдена"},
		{"no token", apitest.User{}, fmt.Sprintf("/lessons/submission/%d", id), 401, "Not authenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.env.Do(t, "DELETE", tc.path, tc.as, nil).Error(t, tc.status, tc.detail)
			if !f.exists(rel) {
				t.Fatal("a refused delete removed the file")
			}
		})
	}
	f.env.Do(t, "DELETE", "/lessons/submission/x", f.student, nil).HasIssue(t, "int_parsing", "path.submission_id")
}

func TestGradeSubmission(t *testing.T) {
	t.Parallel()
	f := setup(t)
	sub := f.submission(t, f.lessonID, f.student.ID)
	path := fmt.Sprintf("/lessons/submission/%d/grade", sub)
	grade := func() *int32 {
		var g *int32
		_ = f.env.Pool.QueryRow(t.Context(), `SELECT grade FROM lesson_submissions WHERE id = $1`, sub).Scan(&g)
		return g
	}

	f.env.Do(t, "PATCH", path, f.teacher, map[string]any{"grade": 5}).Error(t, 200, "Оценка сохранена")
	if g := grade(); g == nil || *g != 5 {
		t.Fatalf("grade %v", g)
	}
	f.env.Do(t, "PATCH", path, f.admin, map[string]any{"grade": "4"}).Error(t, 200, "Оценка сохранена")
	if g := grade(); *g != 4 {
		t.Fatalf("grade %v", *g)
	}
	f.env.Do(t, "PATCH", path, f.other, map[string]any{"grade": 1}).Error(t, 403, "Нет доступа к оценке")
	f.env.Do(t, "PATCH", path, f.student, map[string]any{"grade": 1}).Error(t, 403, "Доступ воспрещен: только для преподавателей")
	f.env.Do(t, "PATCH", path, apitest.User{}, map[string]any{"grade": 1}).Error(t, 401, "Not authenticated")
	f.env.Do(t, "PATCH", "/lessons/submission/999999/grade", f.teacher, map[string]any{"grade": 1}).Error(t, 404, "Работа не найдена")
	if g := grade(); *g != 4 {
		t.Fatalf("a refused grade changed it: %v", *g)
	}

	f.env.Do(t, "PATCH", path, f.teacher, map[string]any{}).HasIssue(t, "missing", "body.grade")
	f.env.Do(t, "PATCH", path, f.teacher, map[string]any{"grade": 4.5}).HasIssue(t, "int_from_float", "body.grade")
	f.env.Do(t, "PATCH", path, f.teacher, map[string]any{"grade": 1 << 31}).HasIssue(t, "less_than_equal", "body.grade")
	f.env.Do(t, "PATCH", path, f.teacher, `{"grade": 5`).HasIssue(t, "json_invalid", "body.11")
	res := f.env.Do(t, "PATCH", "/lessons/submission/x/grade", f.teacher, map[string]any{"grade": nil})
	res.HasIssue(t, "int_parsing", "path.submission_id")
	res.HasIssue(t, "int_type", "body.grade")

	orphan := f.env.ID(t, `INSERT INTO lesson_submissions (lesson_id, user_id) VALUES (NULL, $1) RETURNING id`, f.student.ID)
	f.env.Do(t, "PATCH", fmt.Sprintf("/lessons/submission/%d/grade", orphan), f.teacher, map[string]any{"grade": 3}).
		Error(t, 403, "Нет доступа к оценке")
	f.env.Do(t, "PATCH", fmt.Sprintf("/lessons/submission/%d/grade", orphan), f.admin, map[string]any{"grade": 3}).Status(t, 200)
}

// TestSubmitHomeworkLessonDeletedMeanwhile deletes the lesson while the
// files are still streaming in: the insert then meets the foreign key, which
// must answer the lesson's 404 (not a 500) and leave nothing behind.
func TestSubmitHomeworkLessonDeletedMeanwhile(t *testing.T) {
	t.Parallel()
	f := setup(t)
	lesson := f.lesson(t, f.subjectID, "x")
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	type result struct {
		res *apitest.Response
		err error
	}
	done := make(chan result, 1)
	go func() {
		// Not env.Send: it calls t.Fatalf, which must not run outside the test
		// goroutine; the outcome is checked below instead.
		res, err := sendAsync(f.env, apitest.Request{Method: "POST", Path: fmt.Sprintf("/lessons/%d/submit-homework", lesson),
			Token: f.student.Token, Body: pr, Header: http.Header{"Content-Type": {mw.FormDataContentType()}}})
		done <- result{res, err}
	}()
	w, _ := mw.CreateFormFile("files", "a.txt")
	// More than socket buffers hold: once written, the handler is past its
	// lesson check and streaming the body.
	_, _ = io.Copy(w, io.LimitReader(filler{}, 16<<20))
	f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/%d", lesson), f.teacher, nil).Status(t, 200)
	_ = mw.Close()
	_ = pw.Close()
	got := <-done
	if got.err != nil {
		t.Fatal(got.err)
	}
	got.res.Error(t, 404, "Урок не найден")
	if n := f.env.Count(t, `SELECT count(*) FROM lesson_submissions WHERE lesson_id = $1`, lesson); n != 0 {
		t.Fatal("row left")
	}
	if files := f.files(t, fmt.Sprintf("homework/lesson_%d", lesson)); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
}

package lessons_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"platform/internal/apitest"
)

var apiTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$`)

func TestCreateLesson(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := fmt.Sprintf("/lessons/add/subjects/%d", f.subjectID)
	body := map[string]any{"title": "Дроби", "type": "pdf", "content_url": "/static/lesson_docs/a.pdf"}

	t.Run("teacher of the subject: full shape", func(t *testing.T) {
		m := f.env.Do(t, "POST", path, f.teacher, map[string]any{
			"title": "Дроби", "type": "pdf", "content_url": "/static/lesson_docs/a.pdf", "description": "Описание",
		}).Status(t, 200).Map(t)
		wantKeys(t, m, "id", "title", "description", "type", "content_url", "subject_id", "created_at", "result", "due_at", "cutoff_at")
		if m["title"] != "Дроби" || m["type"] != "pdf" || m["content_url"] != "/static/lesson_docs/a.pdf" ||
			m["description"] != "Описание" || m["subject_id"] != float64(f.subjectID) || m["result"] != nil {
			t.Fatalf("lesson %v", m)
		}
		if s, _ := m["created_at"].(string); !apiTime.MatchString(s) {
			t.Fatalf("created_at %v", m["created_at"])
		}
		if n := f.env.Count(t, `SELECT count(*) FROM lessons WHERE id = $1 AND subject_id = $2
			AND created_at > (now() AT TIME ZONE 'UTC') - interval '1 minute'`, int32(m["id"].(float64)), f.subjectID); n != 1 {
			t.Fatal("lesson row not stored with a UTC created_at")
		}
	})
	t.Run("admin; null description", func(t *testing.T) {
		m := f.env.Do(t, "POST", path, f.admin, body).Status(t, 200).Map(t)
		if m["description"] != nil {
			t.Fatalf("description %v", m["description"])
		}
	})
	t.Run("test lesson moves the test", func(t *testing.T) {
		testID := f.test(t, f.subjectID, &f.lessonID)
		m := f.env.Do(t, "POST", path, f.teacher, map[string]any{
			"title": "Тест 1", "type": "Тест", "content_url": "", "test_id": testID,
		}).Status(t, 200).Map(t)
		if n := f.env.Count(t, `SELECT count(*) FROM tests WHERE id = $1 AND lesson_id = $2`, testID, int32(m["id"].(float64))); n != 1 {
			t.Fatal("test not attached to the new lesson")
		}
	})
	t.Run("test_id ignored for other types", func(t *testing.T) {
		testID := f.test(t, f.subjectID, nil)
		f.env.Do(t, "POST", path, f.teacher, map[string]any{
			"title": "Видео", "type": "video", "content_url": "https://x", "test_id": testID,
		}).Status(t, 200)
		if n := f.env.Count(t, `SELECT count(*) FROM tests WHERE id = $1 AND lesson_id IS NULL`, testID); n != 1 {
			t.Fatal("test attached to a non-test lesson")
		}
	})

	otherTest := f.test(t, f.otherSubjectID, nil)
	errs := []struct {
		name   string
		as     apitest.User
		path   string
		body   map[string]any
		status int
		detail string
	}{
		{"unknown test", f.teacher, path, map[string]any{"title": "T", "type": "Тест", "content_url": "", "test_id": 999999}, 404, "Тест не найден"},
		{"test of another subject", f.teacher, path, map[string]any{"title": "T", "type": "Тест", "content_url": "", "test_id": otherTest}, 400, "Тест относится к другому предмету"},
		{"unknown subject", f.teacher, "/lessons/add/subjects/999999", body, 404, "Предмет не найден"},
		{"out-of-range subject id", f.admin, "/lessons/add/subjects/99999999999", body, 404, "Предмет не найден"},
		{"teacher of another subject", f.other, path, body, 403, "Нет доступа к предмету"},
		{"student", f.student, path, body, 403, "Доступ воспрещен: только для преподавателей"},
		{"no token", apitest.User{}, path, body, 401, "Not authenticated"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			before := f.env.Count(t, `SELECT count(*) FROM lessons`)
			f.env.Do(t, "POST", tc.path, tc.as, tc.body).Error(t, tc.status, tc.detail)
			if after := f.env.Count(t, `SELECT count(*) FROM lessons`); after != before {
				t.Fatal("a refused request created a lesson")
			}
		})
	}

	t.Run("422: missing fields", func(t *testing.T) {
		res := f.env.Do(t, "POST", path, f.teacher, map[string]any{})
		for _, loc := range []string{"body.title", "body.type", "body.content_url"} {
			res.HasIssue(t, "missing", loc)
		}
		if n := len(res.Invalid(t)); n != 3 {
			t.Fatalf("%d issues, want 3", n)
		}
	})
	t.Run("422: path and body together", func(t *testing.T) {
		res := f.env.Do(t, "POST", "/lessons/add/subjects/abc", f.teacher, map[string]any{
			"title": strings.Repeat("я", 101), "type": strings.Repeat("t", 21), "content_url": 5, "test_id": "x",
		})
		res.HasIssue(t, "int_parsing", "path.subject_id")
		res.HasIssue(t, "string_too_long", "body.title")
		res.HasIssue(t, "string_too_long", "body.type")
		res.HasIssue(t, "string_type", "body.content_url")
		res.HasIssue(t, "int_parsing", "body.test_id")
	})
	t.Run("422: no body", func(t *testing.T) {
		f.env.Do(t, "POST", path, f.teacher, nil).HasIssue(t, "missing", "body")
	})
}

func TestGetLesson(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := fmt.Sprintf("/lessons/%d", f.lessonID)
	testID := f.test(t, f.subjectID, &f.lessonID)
	f.env.Exec(t, `INSERT INTO results (user_id, lesson_id, test_id, score, submitted_at) VALUES
		($1, $2, NULL, 40, '2025-06-05 09:00:00+00'),
		($1, $2, $3, 66.67, '2025-06-05 10:00:00.123456+00'),
		($4, $2, $3, 100, '2025-06-06 10:00:00+00')`, f.student.ID, f.lessonID, testID, f.teacher.ID)
	latest := f.env.ID(t, `SELECT id FROM results WHERE user_id = $1 AND score = 66.67`, f.student.ID)

	t.Run("student with access: the latest own result", func(t *testing.T) {
		m := f.env.Do(t, "GET", path, f.student, nil).Status(t, 200).Map(t)
		wantKeys(t, m, "id", "title", "description", "type", "content_url", "subject_id", "created_at", "result", "due_at", "cutoff_at")
		if m["id"] != float64(f.lessonID) || m["title"] != "Введение" || m["type"] != "video" ||
			m["content_url"] != "https://video" || m["description"] != nil || m["subject_id"] != float64(f.subjectID) ||
			m["created_at"] != "2025-06-04T08:30:00Z" {
			t.Fatalf("lesson %v", m)
		}
		res, _ := m["result"].(map[string]any)
		wantKeys(t, res, "id", "user_id", "lesson_id", "test_id", "score", "submitted_at")
		if res["id"] != float64(latest) || res["score"] != 66.67 || res["user_id"] != float64(f.student.ID) ||
			res["lesson_id"] != float64(f.lessonID) || res["test_id"] != float64(testID) ||
			res["submitted_at"] != "2025-06-05T10:00:00.123456Z" {
			t.Fatalf("result %v", res)
		}
	})
	for _, tc := range []struct {
		name string
		as   apitest.User
	}{{"admin", f.admin}, {"other teacher", f.other}} {
		t.Run(tc.name+": result null", func(t *testing.T) {
			if m := f.env.Do(t, "GET", path, tc.as, nil).Status(t, 200).Map(t); m["result"] != nil {
				t.Fatalf("result %v", m["result"])
			}
		})
	}
	t.Run("student linked through the subject only", func(t *testing.T) {
		g := f.env.ID(t, `INSERT INTO groups (name) VALUES ('Г2') RETURNING id`)
		f.env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, f.outsider.ID, g)
		other := f.lesson(t, f.otherSubjectID, "x")
		f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d", other), f.outsider, nil).
			Error(t, 404, "Урок не найден или доступ запрещён")
		f.env.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, f.otherSubjectID, g)
		f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d", other), f.outsider, nil).Status(t, 200)
	})
	t.Run("student without access", func(t *testing.T) {
		f.env.Do(t, "GET", path, f.outsider, nil).Error(t, 404, "Урок не найден или доступ запрещён")
	})
	t.Run("missing", func(t *testing.T) {
		f.env.Do(t, "GET", "/lessons/999999", f.admin, nil).Error(t, 404, "Урок не найден или доступ запрещён")
	})
	t.Run("trailing slash", func(t *testing.T) {
		f.env.Do(t, "GET", path+"/", f.admin, nil).Status(t, 200)
	})
	t.Run("422", func(t *testing.T) {
		f.env.Do(t, "GET", "/lessons/1.5", f.admin, nil).HasIssue(t, "int_parsing", "path.lesson_id")
	})
	t.Run("no token", func(t *testing.T) {
		f.env.Do(t, "GET", path, apitest.User{}, nil).Error(t, 401, "Not authenticated")
	})
	t.Run("unknown path and wrong method", func(t *testing.T) {
		f.env.Do(t, "GET", path+"/nothing", apitest.User{}, nil).Error(t, 404, "Not Found")
		res := f.env.Do(t, "PUT", path, f.admin, nil)
		res.Error(t, 405, "Method Not Allowed")
		if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "DELETE") {
			t.Fatalf("Allow %q", allow)
		}
		f.env.Do(t, "HEAD", path, f.admin, nil).Status(t, 405)
	})
}

func TestDeleteLesson(t *testing.T) {
	t.Parallel()
	f := setup(t)
	doc := "/static/lesson_docs/0123456789abcdef0123456789abcdef.pdf"
	shared := "/static/lesson_docs/fedcba9876543210fedcba9876543210.pdf"
	lesson := f.lesson(t, f.subjectID, doc)
	keeper := f.lesson(t, f.subjectID, shared)
	sharer := f.lesson(t, f.subjectID, shared)
	f.write(t, "lesson_docs/0123456789abcdef0123456789abcdef.pdf", "doc")
	f.write(t, "lesson_docs/fedcba9876543210fedcba9876543210.pdf", "doc")
	hw := fmt.Sprintf("static/homework/lesson_%d/%d_aa.txt", lesson, f.student.ID)
	sub := f.submission(t, lesson, f.student.ID, hw)
	f.write(t, fmt.Sprintf("homework/lesson_%d/stray.txt", lesson), "not in any row")
	testID := f.test(t, f.subjectID, &lesson)
	f.result(t, f.student.ID, &lesson, &testID, 50)
	otherHW := fmt.Sprintf("static/homework/lesson_%d/%d_bb.txt", keeper, f.student.ID)
	f.submission(t, keeper, f.student.ID, otherHW)

	t.Run("refusals", func(t *testing.T) {
		path := fmt.Sprintf("/lessons/%d", lesson)
		f.env.Do(t, "DELETE", path, f.other, nil).Error(t, 403, "Нет доступа к предмету")
		f.env.Do(t, "DELETE", path, f.student, nil).Error(t, 403, "Доступ воспрещен: только для преподавателей")
		f.env.Do(t, "DELETE", path, apitest.User{}, nil).Error(t, 401, "Not authenticated")
		f.env.Do(t, "DELETE", "/lessons/999999", f.teacher, nil).Error(t, 404, "Урок не найден")
		f.env.Do(t, "DELETE", "/lessons/x", f.teacher, nil).HasIssue(t, "int_parsing", "path.lesson_id")
		if !f.exists(strings.TrimPrefix(hw, "static/")) {
			t.Fatal("a refused delete removed files")
		}
	})
	t.Run("cascade and files", func(t *testing.T) {
		f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/%d", lesson), f.teacher, nil).Error(t, 200, "Урок успешно удалён")
		f.env.WaitJobs(t) // the files' removal is a job queued with the delete
		for _, q := range []string{
			`SELECT count(*) FROM lessons WHERE id = $1`,
			`SELECT count(*) FROM lesson_submissions WHERE lesson_id = $1`,
			`SELECT count(*) FROM results WHERE lesson_id = $1`,
			`SELECT count(*) FROM tests WHERE lesson_id = $1`,
		} {
			if got := f.env.Count(t, q, lesson); got != 0 {
				t.Fatalf("%s: %d rows left", q, got)
			}
		}
		if n := f.env.Count(t, `SELECT count(*) FROM tests WHERE id = $1`, testID); n != 1 {
			t.Fatal("the lesson's test was deleted, not unlinked")
		}
		if n := f.env.Count(t, `SELECT count(*) FROM submission_files WHERE submission_id = $1`, sub); n != 0 {
			t.Fatal("submission files left")
		}
		if f.exists(fmt.Sprintf("homework/lesson_%d", lesson)) {
			t.Fatal("homework folder left")
		}
		if f.exists("lesson_docs/0123456789abcdef0123456789abcdef.pdf") {
			t.Fatal("lesson document left")
		}
		if !f.exists(strings.TrimPrefix(otherHW, "static/")) {
			t.Fatal("another lesson's homework removed")
		}
	})
	t.Run("a document another lesson uses stays", func(t *testing.T) {
		f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/%d", sharer), f.admin, nil).Status(t, 200)
		if !f.exists("lesson_docs/fedcba9876543210fedcba9876543210.pdf") {
			t.Fatal("shared document removed")
		}
	})
}

// The caller's latest result is the latest by submitted_at; a row without a
// time is not the latest, whatever its id — as GET /access/lessons/{id} and
// the module trees answer for the same lesson.
func TestGetLessonLatestResultUndated(t *testing.T) {
	t.Parallel()
	f := setup(t)
	dated := f.result(t, f.student.ID, &f.lessonID, nil, 20)
	f.env.Exec(t, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, 10, NULL)`, f.student.ID, f.lessonID)
	for _, path := range []string{"/lessons/%d", "/access/lessons/%d"} {
		m := f.env.Do(t, "GET", fmt.Sprintf(path, f.lessonID), f.student, nil).Status(t, 200).Map(t)
		res, _ := m["result"].(map[string]any)
		if res == nil || res["id"] != float64(dated) || res["submitted_at"] != "2025-06-05T10:00:00Z" {
			t.Fatalf("%s: result %v, want id %d", path, m["result"], dated)
		}
	}
}

// PostgreSQL text cannot hold NUL: such strings are refused with a 422
// (as /tests does) instead of failing in the database with a 500.
func TestCreateLessonNUL(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := fmt.Sprintf("/lessons/add/subjects/%d", f.subjectID)
	for _, field := range []string{"title", "type", "content_url", "description"} {
		t.Run(field, func(t *testing.T) {
			body := map[string]any{"title": "t", "type": "pdf", "content_url": "https://u"}
			body[field] = "a\x00b"
			is := f.env.Do(t, "POST", path, f.teacher, body).HasIssue(t, "value_error", "body."+field)
			if is.Msg != "Value error, строка не должна содержать символ NUL" || is.Input != "a\x00b" {
				t.Fatalf("issue %+v", is)
			}
			if n := f.env.Count(t, `SELECT count(*) FROM lessons WHERE title = 't'`); n != 0 {
				t.Fatal("lesson created")
			}
		})
	}
}

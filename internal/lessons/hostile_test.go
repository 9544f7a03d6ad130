package lessons_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"platform/internal/apitest"
	"platform/internal/storage"
	"platform/internal/web"
)

// Issue 10.1 and 10.3: content_url is an http(s) link or an uploaded
// document's canonical path, and at most web.MaxContentURL characters;
// anything else is a 422 at body.content_url, before any row is written.
func TestContentURLRule(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := fmt.Sprintf("/lessons/add/subjects/%d", f.subjectID)
	body := func(url string) map[string]any {
		return map[string]any{"title": "Урок", "type": "pdf", "content_url": url}
	}
	for _, ok := range []string{
		"https://youtu.be/x?t=1", "http://example.org/a.pdf", "HTTPS://EXAMPLE.ORG/",
		"/static/lesson_docs/0a1b2c3d4e5f60718293a4b5c6d7e8f9.pdf", "/static/lesson_docs/Лекция 1.docx", "",
	} {
		f.env.Do(t, "POST", path, f.teacher, body(ok)).Status(t, 200)
	}
	for _, bad := range []string{
		"/static/lesson_docs/../homework/lesson_1/5_0a.txt", "/static/lesson_docs/./x.pdf",
		"/static/lesson_docs/..", "/static/lesson_docs/", "/static/lesson_docs/a/b.pdf",
		`/static/lesson_docs/a\b.pdf`, "/static/lesson_docs/.tmp-0a1b", "./x.pdf", "../photos/1_a.png",
		"static/lesson_docs/x.pdf", "/static/photos/1_a.png", "javascript:alert(1)", "file:///etc/passwd",
		"https://", "//example.org/x", "/static/lesson_docs/a\x01.pdf",
	} {
		is := f.env.Do(t, "POST", path, f.teacher, body(bad)).HasIssue(t, "value_error", "body.content_url")
		if is.Ctx["error"] != storage.ContentURLRefused {
			t.Errorf("%q: ctx %v", bad, is.Ctx)
		}
	}
	long := "https://example.org/" + strings.Repeat("a", web.MaxContentURL)
	f.env.Do(t, "POST", path, f.teacher, body(long)).HasIssue(t, "string_too_long", "body.content_url")
	desc := body("https://v")
	desc["description"] = strings.Repeat("я", web.MaxLessonDescription+1)
	f.env.Do(t, "POST", path, f.teacher, desc).HasIssue(t, "string_too_long", "body.description")
	if n := f.env.Count(t, `SELECT count(*) FROM lessons WHERE subject_id = $1`, f.subjectID); n != 1+6 {
		t.Errorf("%d lessons, want the fixture's and the 6 accepted", n)
	}
}

// Issue 10.1: deleting a lesson whose (old, odd) content_url leads out of
// lesson_docs/ removes nothing outside it; a canonical document still named
// by another lesson in any spelling stays; an unused canonical one goes.
func TestDeleteLessonRemovesOnlyItsDocument(t *testing.T) {
	t.Parallel()
	f := setup(t)
	homework := fmt.Sprintf("homework/lesson_%d/%d_0a.txt", f.lessonID, f.student.ID)
	f.write(t, homework, "homework of a student")
	f.write(t, "photos/1_a.png", "photo")
	f.write(t, "lesson_docs/shared.pdf", "shared")
	f.write(t, "lesson_docs/mine.pdf", "mine")
	f.write(t, "lesson_docs/other.pdf", "other")
	odd := []string{
		"/static/lesson_docs/../" + homework, "/static/lesson_docs/../photos/1_a.png",
		"/static/lesson_docs/./other.pdf", "/static/lesson_docs/../lesson_docs/other.pdf",
	}
	for _, u := range odd {
		id := f.lesson(t, f.otherSubjectID, u)
		f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/%d", id), f.other, nil).Status(t, 200)
	}
	// Another lesson names shared.pdf percent-encoded: it must stay.
	f.lesson(t, f.otherSubjectID, "https://host/static/lesson_docs/shared%2Epdf")
	for _, u := range []string{"/static/lesson_docs/shared.pdf", "/static/lesson_docs/mine.pdf"} {
		id := f.lesson(t, f.subjectID, u)
		f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/%d", id), f.teacher, nil).Status(t, 200)
	}
	f.env.WaitJobs(t) // the removal is a job queued with the delete
	for rel, want := range map[string]bool{
		homework: true, "photos/1_a.png": true, "lesson_docs/other.pdf": true,
		"lesson_docs/shared.pdf": true, "lesson_docs/mine.pdf": false,
	} {
		_, err := os.Stat(filepath.Join(f.env.StaticDir, rel))
		if got := err == nil; got != want {
			t.Errorf("%s exists = %v, want %v", rel, got, want)
		}
	}
}

// Issue 10.2: one student's submissions to one lesson are capped (400
// beyond), comments are capped (422), and the lists take limit/offset.
func TestSubmissionCapAndPaging(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := fmt.Sprintf("/lessons/%d/submit-homework", f.lessonID)
	for i := range 20 {
		upload(t, f.env, path, f.student, text("comment", fmt.Sprintf("работа %d", i))).Status(t, 200)
	}
	upload(t, f.env, path, f.student, text("comment", "ещё")).Error(t, 400, "Можно отправить не более 20 работ к одному уроку")
	upload(t, f.env, fmt.Sprintf("/lessons/%d/submit-homework", f.lesson(t, f.subjectID, "https://v2")), f.student,
		text("comment", strings.Repeat("я", web.MaxComment+1))).HasIssue(t, "string_too_long", "body.comment")

	mine := fmt.Sprintf("/lessons/%d/my-submissions", f.lessonID)
	if n := len(f.env.Do(t, "GET", mine, f.student, nil).Status(t, 200).List(t)); n != 20 {
		t.Errorf("full list: %d items, want 20", n)
	}
	page := f.env.Do(t, "GET", mine+"?limit=3&offset=18", f.student, nil).Status(t, 200).List(t)
	if len(page) != 2 || page[0].(map[string]any)["comment"] != "работа 1" {
		t.Errorf("page: %v", page)
	}
	teacher := fmt.Sprintf("/lessons/%d/submissions/files", f.lessonID)
	page = f.env.Do(t, "GET", teacher+"?search=иван&limit=2&offset=1", f.teacher, nil).Status(t, 200).List(t)
	if len(page) != 2 || page[0].(map[string]any)["comment"] != "работа 1" {
		t.Errorf("teacher page: %v", page)
	}
	for q, loc := range map[string]string{"limit=0": "query.limit", "limit=x": "query.limit",
		"limit=10001": "query.limit", "offset=-1": "query.offset", "limit=": "query.limit"} {
		r := f.env.Do(t, "GET", mine+"?"+q, f.student, nil)
		if r.Code != 422 {
			t.Errorf("%s: %d", q, r.Code)
			continue
		}
		if is := r.Invalid(t); apitest.LocString(is[0].Loc) != loc {
			t.Errorf("%s: %+v", q, is)
		}
	}
}

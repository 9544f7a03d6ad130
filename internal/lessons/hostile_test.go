package lessons_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"platform/internal/apitest"
	"platform/internal/web"
)

// Issue 19.1: content_url is free text again (API.md §8). Whatever the SPA
// sends within web.MaxContentURL characters — "test" for a quiz lesson, a
// link without a scheme, a placeholder, an odd path — is stored and returned
// exactly as sent; only the length cap (and NUL, which PostgreSQL text
// cannot hold) is a 422, before any row is written.
func TestContentURLIsFreeText(t *testing.T) {
	t.Parallel()
	f := setup(t)
	path := fmt.Sprintf("/lessons/add/subjects/%d", f.subjectID)
	body := func(url string) map[string]any {
		return map[string]any{"title": "Урок", "type": "Тест", "content_url": url}
	}
	sent := []string{
		"test", "www.youtube.com/watch?v=x", "-", "", "youtu.be/x", "https://youtu.be/x?t=1",
		"/static/lesson_docs/0a1b2c3d4e5f60718293a4b5c6d7e8f9.pdf", "/static/lesson_docs/Лекция 1.docx",
		"/static/lesson_docs/../homework/lesson_1/5_0a.txt", "/static/lesson_docs/./x.pdf", "./x.pdf",
		"static/lesson_docs/x.pdf", "javascript:alert(1)", "file:///etc/passwd", "ссылка будет позже",
		"a\tb\x01", "https://example.org/" + strings.Repeat("a", web.MaxContentURL-len("https://example.org/")),
	}
	for _, url := range sent {
		got := f.env.Do(t, "POST", path, f.teacher, body(url)).Status(t, 200).Map(t)
		if got["content_url"] != url {
			t.Errorf("stored %q, answered %q", url, got["content_url"])
			continue
		}
		id := int32(got["id"].(float64))
		if read := f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d", id), f.teacher, nil).Status(t, 200).Map(t); read["content_url"] != url {
			t.Errorf("read back %q, want %q", read["content_url"], url)
		}
	}
	long := "https://example.org/" + strings.Repeat("a", web.MaxContentURL)
	f.env.Do(t, "POST", path, f.teacher, body(long)).HasIssue(t, "string_too_long", "body.content_url")
	desc := body("https://v")
	desc["description"] = strings.Repeat("я", web.MaxLessonDescription+1)
	f.env.Do(t, "POST", path, f.teacher, desc).HasIssue(t, "string_too_long", "body.description")
	if n := f.env.Count(t, `SELECT count(*) FROM lessons WHERE subject_id = $1`, f.subjectID); n != 1+len(sent) {
		t.Errorf("%d lessons, want the fixture's and the %d accepted", n, len(sent))
	}
}

// Issues 10.1 and 19.1: only a content_url exactly in the canonical form of
// an upload names a file. Deleting lessons whose values lead out of
// lesson_docs/, or spell a document another way, removes nothing; a
// canonical document another lesson names exactly stays; an unused one goes,
// even when another lesson mentions it in some other spelling (inert text).
func TestDeleteLessonRemovesOnlyItsDocument(t *testing.T) {
	t.Parallel()
	f := setup(t)
	homework := fmt.Sprintf("homework/lesson_%d/%d_0a.txt", f.lessonID, f.student.ID)
	f.write(t, homework, "homework of a student")
	f.write(t, "photos/1_a.png", "photo")
	f.write(t, "lesson_docs/shared.pdf", "shared")
	f.write(t, "lesson_docs/mine.pdf", "mine")
	f.write(t, "lesson_docs/other.pdf", "other")
	f.write(t, "lesson_docs/spelled.pdf", "spelled")
	odd := []string{
		"/static/lesson_docs/../" + homework, "/static/lesson_docs/../photos/1_a.png",
		"/static/lesson_docs/./other.pdf", "/static/lesson_docs/../lesson_docs/other.pdf",
		"static/lesson_docs/other.pdf", "https://host/static/lesson_docs/other.pdf",
	}
	for _, u := range odd {
		id := f.lesson(t, f.otherSubjectID, u)
		f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/%d", id), f.other, nil).Status(t, 200)
	}
	// Another lesson names shared.pdf exactly: it stays. spelled.pdf is only
	// mentioned percent-encoded and in a full URL: that keeps nothing.
	f.lesson(t, f.otherSubjectID, "/static/lesson_docs/shared.pdf")
	f.lesson(t, f.otherSubjectID, "https://host/static/lesson_docs/spelled%2Epdf")
	f.lesson(t, f.otherSubjectID, "https://host/static/lesson_docs/spelled.pdf")
	for _, u := range []string{"/static/lesson_docs/shared.pdf", "/static/lesson_docs/mine.pdf", "/static/lesson_docs/spelled.pdf"} {
		id := f.lesson(t, f.subjectID, u)
		f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/%d", id), f.teacher, nil).Status(t, 200)
	}
	f.env.WaitJobs(t) // the removal is a job queued with the delete
	for rel, want := range map[string]bool{
		homework: true, "photos/1_a.png": true, "lesson_docs/other.pdf": true,
		"lesson_docs/shared.pdf": true, "lesson_docs/mine.pdf": false, "lesson_docs/spelled.pdf": false,
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

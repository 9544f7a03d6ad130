package lessons_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// rfc is t in the API's format (whole seconds).
func rfc(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// dbSecond is the database's current UTC time truncated to the second: the
// clock submissions are judged by.
func dbSecond(t *testing.T, env *apitest.Env) time.Time {
	t.Helper()
	var s time.Time
	err := env.Pool.QueryRow(t.Context(), `SELECT date_trunc('second', now() AT TIME ZONE 'UTC')`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(s.Year(), s.Month(), s.Day(), s.Hour(), s.Minute(), s.Second(), 0, time.UTC)
}

// comment submits a comment-only homework as the user.
func comment(t *testing.T, f fixture, lessonID int32, as apitest.User) *apitest.Response {
	t.Helper()
	return upload(t, f.env, fmt.Sprintf("/lessons/%d/submit-homework", lessonID), as, text("comment", "Готово"))
}

// lastSubmission is the user's newest submission to the lesson: its second
// (submitted_at truncated) and late_seconds.
func lastSubmission(t *testing.T, f fixture, lessonID, userID int32) (at time.Time, late *int32) {
	t.Helper()
	err := f.env.Pool.QueryRow(t.Context(), `SELECT date_trunc('second', submitted_at), late_seconds
		FROM lesson_submissions WHERE lesson_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT 1`, lessonID, userID).Scan(&at, &late)
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(at.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), at.Second(), 0, time.UTC), late
}

func setDeadlines(t *testing.T, f fixture, lessonID int32, body map[string]any) *apitest.Response {
	t.Helper()
	return f.env.Do(t, "PATCH", fmt.Sprintf("/lessons/%d/deadlines", lessonID), f.teacher, body)
}

func TestLessonDeadlinesOnCreateAndPatch(t *testing.T) {
	t.Parallel()
	f := setup(t)

	// An existing lesson has none: null, and submissions behave as before.
	m := f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d", f.lessonID), f.student, nil).Status(t, 200).Map(t)
	if m["due_at"] != nil || m["cutoff_at"] != nil {
		t.Fatalf("legacy lesson deadlines: %v %v", m["due_at"], m["cutoff_at"])
	}
	comment(t, f, f.lessonID, f.student).Status(t, 200)
	if _, late := lastSubmission(t, f, f.lessonID, f.student.ID); late != nil {
		t.Fatalf("late_seconds %d without a deadline", *late)
	}

	create := func(body map[string]any) *apitest.Response {
		body["title"], body["type"], body["content_url"] = "ДЗ", "pdf", "https://x"
		return f.env.Do(t, "POST", fmt.Sprintf("/lessons/add/subjects/%d", f.subjectID), f.teacher, body)
	}
	m = create(map[string]any{"due_at": "2031-03-01T12:00:00+06:00", "cutoff_at": "2031-03-02T06:00:00Z"}).Status(t, 200).Map(t)
	if m["due_at"] != "2031-03-01T06:00:00Z" || m["cutoff_at"] != "2031-03-02T06:00:00Z" {
		t.Fatalf("created deadlines: %v %v", m["due_at"], m["cutoff_at"])
	}
	id := int32(m["id"].(float64))
	m = f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d", id), f.student, nil).Status(t, 200).Map(t)
	if m["due_at"] != "2031-03-01T06:00:00Z" || m["cutoff_at"] != "2031-03-02T06:00:00Z" {
		t.Fatalf("read deadlines: %v %v", m["due_at"], m["cutoff_at"])
	}
	// The course tree shows them too.
	tree := f.env.Do(t, "GET", fmt.Sprintf("/access/subjects/%d/lessons", f.subjectID), f.teacher, nil).Status(t, 200).Body
	if !strings.Contains(string(tree), `"due_at":"2031-03-01T06:00:00Z","cutoff_at":"2031-03-02T06:00:00Z"`) {
		t.Fatalf("subject lessons lack the deadlines: %s", tree)
	}

	// Body rules: 422 for a cut-off before the due time, a fraction, a non-string.
	create(map[string]any{"due_at": "2031-03-02T00:00:00Z", "cutoff_at": "2031-03-01T00:00:00Z"}).Status(t, 422).HasIssue(t, "value_error", "body.cutoff_at")
	create(map[string]any{"due_at": "2031-03-02T00:00:00.5Z"}).Status(t, 422).HasIssue(t, "datetime_parsing", "body.due_at")
	create(map[string]any{"due_at": 5}).Status(t, 422).HasIssue(t, "datetime_type", "body.due_at")

	// PATCH: an absent member keeps its value, null clears it, the merged
	// pair must stay ordered (400).
	setDeadlines(t, f, id, map[string]any{"cutoff_at": "2031-02-01T00:00:00Z"}).Error(t, 400, "cutoff_at не может быть раньше due_at")
	m = setDeadlines(t, f, id, map[string]any{"cutoff_at": nil}).Status(t, 200).Map(t)
	if m["due_at"] != "2031-03-01T06:00:00Z" || m["cutoff_at"] != nil {
		t.Fatalf("after clearing cutoff_at: %v %v", m["due_at"], m["cutoff_at"])
	}
	m = setDeadlines(t, f, id, map[string]any{"due_at": "2032-01-01T00:00:00Z"}).Status(t, 200).Map(t)
	if m["due_at"] != "2032-01-01T00:00:00Z" || m["cutoff_at"] != nil {
		t.Fatalf("after moving due_at: %v %v", m["due_at"], m["cutoff_at"])
	}

	// Who may: the subject's teacher and an admin; not another teacher, not a student.
	path := fmt.Sprintf("/lessons/%d/deadlines", id)
	f.env.Do(t, "PATCH", path, f.other, map[string]any{"due_at": nil}).Error(t, 403, "Нет доступа к предмету")
	f.env.Do(t, "PATCH", path, f.student, map[string]any{"due_at": nil}).Status(t, 403)
	f.env.Do(t, "PATCH", path, f.admin, map[string]any{"due_at": nil}).Status(t, 200)
	f.env.Do(t, "PATCH", "/lessons/999999/deadlines", f.teacher, map[string]any{"due_at": nil}).Error(t, 404, "Урок не найден")
}

// Deadlines are whole seconds, judged by the clock of the transaction that
// writes the row: a submission in the due second is on time, one k seconds
// later is late by k; one after the cut-off second is refused, one in it is
// accepted. The test cannot choose the second its request lands in, so it
// checks the rule against the second each submission actually got.
func TestSubmissionDeadlineBoundaries(t *testing.T) {
	t.Parallel()
	f := setup(t)
	onTime := 0
	for range 3 {
		s := dbSecond(t, f.env)
		setDeadlines(t, f, f.lessonID, map[string]any{"due_at": rfc(s), "cutoff_at": nil}).Status(t, 200)
		comment(t, f, f.lessonID, f.student).Status(t, 200)
		at, late := lastSubmission(t, f, f.lessonID, f.student.ID)
		switch k := int32(at.Sub(s) / time.Second); {
		case k == 0 && late != nil:
			t.Fatalf("submitted in the due second %s: late_seconds %d, want null", rfc(s), *late)
		case k == 0:
			onTime++
		case late == nil || *late != k:
			t.Fatalf("submitted %ds after the due second: late_seconds %v, want %d", k, late, k)
		}
	}
	t.Logf("%d of 3 submissions landed in the due second itself", onTime)

	// One second past due, for certain: late by at least 1.
	s := dbSecond(t, f.env)
	setDeadlines(t, f, f.lessonID, map[string]any{"due_at": rfc(s.Add(-time.Second))}).Status(t, 200)
	comment(t, f, f.lessonID, f.student).Status(t, 200)
	at, late := lastSubmission(t, f, f.lessonID, f.student.ID)
	if want := int32(at.Sub(s.Add(-time.Second)) / time.Second); late == nil || *late != want || want < 1 {
		t.Fatalf("late_seconds %v, want %d", late, want)
	}

	// The cut-off second itself: accepted when the request lands in it.
	for range 3 {
		s := dbSecond(t, f.env)
		setDeadlines(t, f, f.lessonID, map[string]any{"due_at": rfc(s.Add(-10 * time.Second)), "cutoff_at": rfc(s)}).Status(t, 200)
		before := f.env.Count(t, `SELECT count(*) FROM lesson_submissions WHERE lesson_id = $1`, f.lessonID)
		res := comment(t, f, f.lessonID, f.student)
		after := dbSecond(t, f.env)
		switch res.Code {
		case 200:
			at, late := lastSubmission(t, f, f.lessonID, f.student.ID)
			if !at.Equal(s) {
				t.Fatalf("accepted at %s after the cut-off second %s", rfc(at), rfc(s))
			}
			if late == nil || *late != 10 {
				t.Fatalf("late_seconds %v, want 10", late)
			}
		case 400:
			if !after.After(s) {
				t.Fatalf("refused although the clock is still in the cut-off second %s", rfc(s))
			}
			if n := f.env.Count(t, `SELECT count(*) FROM lesson_submissions WHERE lesson_id = $1`, f.lessonID); n != before {
				t.Fatal("a refused submission left a row")
			}
		default:
			t.Fatalf("status %d: %s", res.Code, res.Body)
		}
	}

	// After the cut-off: refused with the contract's 400, nothing written.
	s = dbSecond(t, f.env)
	cutoff := s.Add(-time.Second)
	setDeadlines(t, f, f.lessonID, map[string]any{"due_at": rfc(s.Add(-time.Hour)), "cutoff_at": rfc(cutoff)}).Status(t, 200)
	before := f.env.Count(t, `SELECT count(*) FROM lesson_submissions`)
	upload(t, f.env, fmt.Sprintf("/lessons/%d/submit-homework", f.lessonID), f.student,
		file("files", "a.pdf", "pdf")).Error(t, 400, "Приём работ закрыт: срок истёк "+rfc(cutoff))
	if n := f.env.Count(t, `SELECT count(*) FROM lesson_submissions`); n != before {
		t.Fatal("a refused submission left a row")
	}
	if files := f.files(t, fmt.Sprintf("homework/lesson_%d", f.lessonID)); len(files) != 0 {
		t.Fatalf("a refused submission left files: %v", files)
	}
}

func TestExtensions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	classmate := f.env.User(t, auth.Student, apitest.WithName("Сидоров Сидор"))
	f.env.Exec(t, `INSERT INTO user_group (user_id, group_id) SELECT $1, group_id FROM user_group WHERE user_id = $2`, classmate.ID, f.student.ID)
	s := dbSecond(t, f.env)
	due, cutoff := s.Add(-2*time.Hour), s.Add(-time.Hour)
	setDeadlines(t, f, f.lessonID, map[string]any{"due_at": rfc(due), "cutoff_at": rfc(cutoff)}).Status(t, 200)
	comment(t, f, f.lessonID, f.student).Status(t, 400)

	path := fmt.Sprintf("/lessons/%d/extensions/%d", f.lessonID, f.student.ID)
	// A later due time alone leaves the lesson's (past) cut-off before it: 400.
	f.env.Do(t, "PUT", path, f.teacher, map[string]any{"due_at": rfc(s.Add(time.Hour))}).Error(t, 400, "cutoff_at не может быть раньше due_at")
	f.env.Do(t, "PUT", path, f.teacher, map[string]any{}).Status(t, 422)
	f.env.Do(t, "PUT", path, f.other, map[string]any{"due_at": rfc(s)}).Error(t, 403, "Нет доступа к предмету")
	f.env.Do(t, "PUT", fmt.Sprintf("/lessons/%d/extensions/%d", f.lessonID, f.teacher.ID), f.teacher,
		map[string]any{"due_at": rfc(s)}).Error(t, 404, "Студент не найден")

	extDue, extCutoff := s.Add(time.Hour), s.Add(2*time.Hour)
	m := f.env.Do(t, "PUT", path, f.teacher, map[string]any{"due_at": rfc(extDue), "cutoff_at": rfc(extCutoff)}).Status(t, 200).Map(t)
	if m["due_at"] != rfc(extDue) || m["cutoff_at"] != rfc(extCutoff) || m["granted_by"] != float64(f.teacher.ID) || m["student_name"] != "Иванов Иван Иванович" {
		t.Fatalf("extension: %v", m)
	}

	// The student with the extension submits on time; the classmate is still refused.
	comment(t, f, f.lessonID, f.student).Status(t, 200)
	comment(t, f, f.lessonID, classmate).Error(t, 400, "Приём работ закрыт: срок истёк "+rfc(cutoff))
	mine := f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d/my-submissions", f.lessonID), f.student, nil).Status(t, 200).List(t)
	sub := mine[0].(map[string]any)
	if sub["due_at"] != rfc(extDue) || sub["cutoff_at"] != rfc(extCutoff) || sub["late"] != false || sub["late_seconds"] != nil {
		t.Fatalf("own submission: %v", sub)
	}
	// GET /lessons/{id}: the caller's own deadlines.
	if m := f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d", f.lessonID), f.student, nil).Status(t, 200).Map(t); m["due_at"] != rfc(extDue) {
		t.Fatalf("student's lesson due_at %v", m["due_at"])
	}
	if m := f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d", f.lessonID), classmate, nil).Status(t, 200).Map(t); m["due_at"] != rfc(due) {
		t.Fatalf("classmate's lesson due_at %v", m["due_at"])
	}
	list := f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d/extensions", f.lessonID), f.teacher, nil).Status(t, 200).List(t)
	if len(list) != 1 {
		t.Fatalf("extensions: %v", list)
	}

	// Withdrawn: the lesson's deadlines apply again.
	f.env.Do(t, "DELETE", path, f.teacher, nil).Status(t, 200)
	f.env.Do(t, "DELETE", path, f.teacher, nil).Error(t, 404, "Продление не найдено")
	comment(t, f, f.lessonID, f.student).Status(t, 400)

	// A late submission (past due, before the cut-off) shows in the teacher's
	// list, the student's grade summary and the gradebook.
	setDeadlines(t, f, f.lessonID, map[string]any{"cutoff_at": nil}).Status(t, 200)
	comment(t, f, f.lessonID, classmate).Status(t, 200)
	subs := f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d/submissions/files", f.lessonID), f.teacher, nil).Status(t, 200).List(t)
	var lateOnes int
	for _, x := range subs {
		x := x.(map[string]any)
		if x["late"] == true {
			lateOnes++
			if x["user_id"] != float64(classmate.ID) || x["due_at"] != rfc(due) || x["late_seconds"].(float64) < 7200 {
				t.Fatalf("late submission: %v", x)
			}
		}
	}
	if lateOnes != 1 {
		t.Fatalf("%d late submissions in %v", lateOnes, subs)
	}
	grades := f.env.Do(t, "GET", "/lessons/student/grades", classmate, nil).Status(t, 200).List(t)
	if g := grades[0].(map[string]any); g["late"] != true || g["due_at"] != rfc(due) {
		t.Fatalf("grade summary entry: %v", g)
	}
	csv := string(f.env.Do(t, "GET", fmt.Sprintf("/lessons/subjects/%d/gradebook?format=csv", f.subjectID), f.teacher, nil).Status(t, 200).Body)
	if !strings.Contains(csv, "Введение (срок "+rfc(due)+")") || !strings.Contains(csv, "Сдано с опозданием") {
		t.Fatalf("gradebook header lacks the deadline or the late column:\n%s", csv)
	}
	for _, line := range strings.Split(csv, "\r\n") {
		if strings.Contains(line, "Сидоров") && !strings.HasSuffix(line, ",Введение") {
			t.Fatalf("classmate's gradebook row lacks the late lesson: %q", line)
		}
	}
}

// A lesson with no deadline keeps the gradebook's columns as they were.
func TestGradebookWithoutDeadlinesUnchanged(t *testing.T) {
	t.Parallel()
	f := setup(t)
	csv := string(f.env.Do(t, "GET", fmt.Sprintf("/lessons/subjects/%d/gradebook?format=csv", f.subjectID), f.teacher, nil).Status(t, http.StatusOK).Body)
	header, _, _ := strings.Cut(csv, "\r\n")
	if header != "\uFEFF№,ФИО,ИИН,Группы,Введение,Сумма,Средний балл" {
		t.Fatalf("header %q", header)
	}
}

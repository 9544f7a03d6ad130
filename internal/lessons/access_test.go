package lessons_test

import (
	"fmt"
	"net/http"
	"testing"

	"platform/internal/apitest"
)

// TestAccessMatrix walks every /lessons endpoint with each kind of caller.
// Each request gets fresh targets, so destructive endpoints can be tried by
// every caller.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	f := setup(t)
	callers := []struct {
		name string
		user apitest.User
	}{
		{"admin", f.admin}, {"teacher", f.teacher}, {"other teacher", f.other},
		{"student", f.student}, {"outsider", f.outsider}, {"no token", apitest.User{}},
	}
	const (
		teacherOnly = "Доступ воспрещен: только для преподавателей"
		anon        = "Not authenticated"
	)
	type outcome struct {
		status int
		detail string // checked for refusals
	}
	ok := outcome{status: 200}
	lessonPath := func(format string) func() string {
		return func() string { return fmt.Sprintf(format, f.lessonID) }
	}
	freshLesson := func() int32 { return f.lesson(t, f.subjectID, "x") }
	freshSubmission := func() int32 { return f.submission(t, f.lessonID, f.student.ID) }
	freshResult := func() int32 { return f.result(t, f.student.ID, &f.lessonID, nil, 50) }

	for _, ep := range []struct {
		name   string
		method string
		path   func() string
		send   sender
		want   [6]outcome // admin, teacher, other teacher, student, outsider, no token
	}{
		{"create lesson", "POST", func() string { return fmt.Sprintf("/lessons/add/subjects/%d", f.subjectID) }, jsonBody(map[string]any{"title": "T", "type": "video", "content_url": "https://u"}),
			[6]outcome{ok, ok, {403, "Нет доступа к предмету"}, {403, teacherOnly}, {403, teacherOnly}, {401, anon}}},
		{"get lesson", "GET", lessonPath("/lessons/%d"), jsonBody(nil),
			[6]outcome{ok, ok, ok, ok, {404, "Урок не найден или доступ запрещён"}, {401, anon}}},
		{"delete lesson", "DELETE", func() string { return fmt.Sprintf("/lessons/%d", freshLesson()) }, jsonBody(nil),
			[6]outcome{ok, ok, {403, "Нет доступа к предмету"}, {403, teacherOnly}, {403, teacherOnly}, {401, anon}}},
		{"upload lesson file", "POST", func() string { return uploadPath }, multipartBody(func() []part { return []part{file("file", "a.pdf", "x")} }),
			[6]outcome{ok, ok, ok, {403, teacherOnly}, {403, teacherOnly}, {401, anon}}},
		{"submit homework", "POST", lessonPath("/lessons/%d/submit-homework"), multipartBody(func() []part { return []part{text("comment", "x")} }),
			[6]outcome{ok, ok, ok, ok, {403, "Нет доступа к уроку"}, {401, anon}}},
		{"my submissions", "GET", lessonPath("/lessons/%d/my-submissions"), jsonBody(nil),
			[6]outcome{ok, ok, ok, ok, ok, {401, anon}}},
		{"submission files", "GET", lessonPath("/lessons/%d/submissions/files"), jsonBody(nil),
			[6]outcome{ok, ok, {403, "Нет доступа к уроку"}, {403, "Недостаточно прав"}, {403, "Недостаточно прав"}, {401, anon}}},
		{"submission tests", "GET", lessonPath("/lessons/%d/submissions/tests"), jsonBody(nil),
			[6]outcome{ok, ok, {403, "Нет доступа к уроку"}, {403, "Недостаточно прав"}, {403, "Недостаточно прав"}, {401, anon}}},
		{"delete submission", "DELETE", func() string { return fmt.Sprintf("/lessons/submission/%d", freshSubmission()) }, jsonBody(nil),
			[6]outcome{ok, {403, "Недостаточно прав"}, {403, "Недостаточно прав"}, ok, {403, "Недостаточно прав"}, {401, anon}}},
		{"delete result", "DELETE", func() string { return fmt.Sprintf("/lessons/result/%d", freshResult()) }, jsonBody(nil),
			[6]outcome{ok, ok, {403, "Нет доступа к удалению"}, {403, teacherOnly}, {403, teacherOnly}, {401, anon}}},
		{"grade", "PATCH", func() string { return fmt.Sprintf("/lessons/submission/%d/grade", freshSubmission()) }, jsonBody(map[string]any{"grade": 5}),
			[6]outcome{ok, ok, {403, "Нет доступа к оценке"}, {403, teacherOnly}, {403, teacherOnly}, {401, anon}}},
		{"student grades", "GET", func() string { return "/lessons/student/grades" }, jsonBody(nil),
			[6]outcome{ok, ok, ok, ok, ok, {401, anon}}},
	} {
		for i, c := range callers {
			t.Run(ep.name+"/"+c.name, func(t *testing.T) {
				res := ep.send(t, f.env, ep.method, ep.path(), c.user)
				if w := ep.want[i]; w.status == 200 {
					res.Status(t, 200)
				} else {
					res.Error(t, w.status, w.detail)
				}
			})
		}
	}
}

// sender sends one request of an endpoint.
type sender func(t *testing.T, env *apitest.Env, method, path string, as apitest.User) *apitest.Response

func jsonBody(body any) sender {
	return func(t *testing.T, env *apitest.Env, method, path string, as apitest.User) *apitest.Response {
		return env.Do(t, method, path, as, body)
	}
}

// multipartBody builds fresh parts for every request (their readers are consumed).
func multipartBody(parts func() []part) sender {
	return func(t *testing.T, env *apitest.Env, method, path string, as apitest.User) *apitest.Response {
		body, ct := form(parts()...)
		return env.Send(t, apitest.Request{Method: method, Path: path, Token: as.Token, Body: body,
			Header: http.Header{"Content-Type": {ct}}})
	}
}

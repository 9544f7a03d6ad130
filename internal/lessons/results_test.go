package lessons_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
)

func TestLessonResults(t *testing.T) {
	t.Parallel()
	f := setup(t)
	testID := f.test(t, f.subjectID, &f.lessonID)
	r1 := f.result(t, f.student.ID, &f.lessonID, &testID, 66.67)
	r2 := f.result(t, f.outsider.ID, &f.lessonID, nil, 100)
	other := f.lesson(t, f.subjectID, "x")
	f.result(t, f.student.ID, &other, nil, 10)
	path := fmt.Sprintf("/lessons/%d/submissions/tests", f.lessonID)

	for _, as := range []apitest.User{f.teacher, f.admin} {
		list := f.env.Do(t, "GET", path, as, nil).Status(t, 200).List(t)
		if len(list) != 2 {
			t.Fatalf("%d results", len(list))
		}
		first := list[0].(map[string]any)
		wantKeys(t, first, "id", "score", "submitted_at", "student_name", "user_id", "test_id", "lesson_id")
		if first["id"] != float64(r1) || first["score"] != 66.67 || first["submitted_at"] != "2025-06-05T10:00:00Z" ||
			first["student_name"] != "Иванов Иван Иванович" || first["user_id"] != float64(f.student.ID) ||
			first["test_id"] != float64(testID) || first["lesson_id"] != float64(f.lessonID) {
			t.Fatalf("first %v", first)
		}
		second := list[1].(map[string]any)
		if second["id"] != float64(r2) || second["score"] != float64(100) || second["test_id"] != nil {
			t.Fatalf("second %v", second)
		}
	}
	empty := f.lesson(t, f.subjectID, "y")
	if body := f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d/submissions/tests", empty), f.teacher, nil).Status(t, 200).Body; string(body) != "[]" {
		t.Fatalf("body %s", body)
	}
	for _, tc := range []struct {
		name   string
		as     apitest.User
		path   string
		status int
		detail string
	}{
		{"missing lesson (before the role)", f.student, "/lessons/999999/submissions/tests", 404, "Урок не найден"},
		{"student", f.student, path, 403, "Недостаточно прав"},
		{"other teacher", f.other, path, 403, "Нет доступа к уроку"},
		{"no token", apitest.User{}, path, 401, "Not authenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.env.Do(t, "GET", tc.path, tc.as, nil).Error(t, tc.status, tc.detail)
		})
	}
	f.env.Do(t, "GET", "/lessons/x/submissions/tests", f.teacher, nil).HasIssue(t, "int_parsing", "path.lesson_id")
}

func TestDeleteResult(t *testing.T) {
	t.Parallel()
	f := setup(t)
	byLesson := func() int32 { return f.result(t, f.student.ID, &f.lessonID, nil, 50) }
	testID := f.test(t, f.subjectID, nil)
	byTest := f.result(t, f.student.ID, nil, &testID, 50)
	orphan := func() int32 { return f.result(t, f.student.ID, nil, nil, 50) }
	path := func(id int32) string { return fmt.Sprintf("/lessons/result/%d", id) }
	gone := func(t *testing.T, id int32) bool {
		return f.env.Count(t, `SELECT count(*) FROM results WHERE id = $1`, id) == 0
	}

	for _, tc := range []struct {
		name   string
		as     apitest.User
		id     int32
		status int
		detail string
	}{
		{"subject's teacher, by lesson", f.teacher, byLesson(), 200, "Результат удалён"},
		{"subject's teacher, by test", f.teacher, byTest, 200, "Результат удалён"},
		{"admin, no lesson or test", f.admin, orphan(), 200, "Результат удалён"},
		{"teacher, no lesson or test", f.teacher, orphan(), 403, "Нет доступа"},
		{"other teacher", f.other, byLesson(), 403, "Нет доступа к удалению"},
		{"student", f.student, byLesson(), 403, "Доступ воспрещен: только для преподавателей"},
		{"no token", apitest.User{}, byLesson(), 401, "Not authenticated"},
		{"missing", f.teacher, 999999, 404, "Результат не найден"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.env.Do(t, "DELETE", path(tc.id), tc.as, nil).Error(t, tc.status, tc.detail)
			if want := tc.status == 200; gone(t, tc.id) != want && tc.id != 999999 {
				t.Fatalf("deleted = %v, want %v", !want, want)
			}
		})
	}
	f.env.Do(t, "DELETE", "/lessons/result/x", f.teacher, nil).HasIssue(t, "int_parsing", "path.result_id")
}

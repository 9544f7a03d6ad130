package lessons_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
)

// history reads a submission's grade history as the user.
func history(t *testing.T, f fixture, subID int32, as apitest.User) []map[string]any {
	t.Helper()
	var out []map[string]any
	f.env.Do(t, "GET", fmt.Sprintf("/lessons/submission/%d/history", subID), as, nil).Status(t, 200).Decode(t, &out)
	return out
}

func num(v int) any { return float64(v) }

func TestGradeHistory(t *testing.T) {
	t.Parallel()
	f := setup(t)
	sub := f.submission(t, f.lessonID, f.student.ID)
	gradePath := fmt.Sprintf("/lessons/submission/%d/grade", sub)

	// Refused changes record nothing.
	f.env.Do(t, "PATCH", gradePath, f.other, map[string]any{"grade": 2}).Error(t, 403, "Нет доступа к оценке")
	f.env.Do(t, "PATCH", "/lessons/submission/999999/grade", f.teacher, map[string]any{"grade": 2}).Status(t, 404)
	f.env.Do(t, "DELETE", gradePath, f.teacher, nil).Status(t, 200) // no grade yet: nothing changes
	if n := f.env.Count(t, `SELECT count(*) FROM grade_history`); n != 0 {
		t.Fatalf("%d history rows after no change", n)
	}

	f.env.Do(t, "PATCH", gradePath, f.teacher, map[string]any{"grade": 5}).Status(t, 200)
	f.env.Do(t, "PATCH", gradePath, f.teacher, map[string]any{"grade": 4}).Status(t, 200)
	f.env.Do(t, "DELETE", gradePath, f.admin, nil).Status(t, 200)

	want := []struct {
		old, new any
		actor    apitest.User
		role     string
		endpoint string
	}{
		{nil, num(5), f.teacher, "teacher", "PATCH /lessons/submission/{submission_id}/grade"},
		{num(5), num(4), f.teacher, "teacher", "PATCH /lessons/submission/{submission_id}/grade"},
		{num(4), nil, f.admin, "admin", "DELETE /lessons/submission/{submission_id}/grade"},
	}
	for _, as := range []apitest.User{f.teacher, f.admin} {
		rows := history(t, f, sub, as)
		if len(rows) != len(want) {
			t.Fatalf("history: %v", rows)
		}
		for i, w := range want {
			r := rows[i]
			if r["old_value"] != w.old || r["new_value"] != w.new || r["actor_id"] != num(int(w.actor.ID)) ||
				r["actor_name"] != w.actor.FullName || r["actor_role"] != w.role || r["endpoint"] != w.endpoint ||
				r["kind"] != "homework" || r["submission_id"] != num(int(sub)) || r["student_name"] != "Иванов Иван Иванович" ||
				r["lesson_title"] != "Введение" || r["changed_at"] == nil {
				t.Fatalf("row %d: %v", i, r)
			}
		}
	}
	// The owner sees the role, not who.
	for _, r := range history(t, f, sub, f.student) {
		if r["actor_id"] != nil || r["actor_name"] != nil || r["actor_role"] == nil {
			t.Fatalf("student's view: %v", r)
		}
	}
	path := fmt.Sprintf("/lessons/submission/%d/history", sub)
	f.env.Do(t, "GET", path, f.outsider, nil).Error(t, 403, "Недостаточно прав")
	f.env.Do(t, "GET", path, f.other, nil).Error(t, 403, "Нет доступа к оценке")
	f.env.Do(t, "GET", path, apitest.User{}, nil).Status(t, 401)
	f.env.Do(t, "GET", "/lessons/submission/999999/history", f.teacher, nil).Error(t, 404, "Работа не найдена")
}

// The history row is written in the grading transaction: when it cannot be
// written, the grade does not change either.
func TestGradeHistoryInTheGradingTransaction(t *testing.T) {
	t.Parallel()
	f := setup(t)
	sub := f.submission(t, f.lessonID, f.student.ID)
	gradePath := fmt.Sprintf("/lessons/submission/%d/grade", sub)
	f.env.Do(t, "PATCH", gradePath, f.teacher, map[string]any{"grade": 5}).Status(t, 200)
	// From now on the history refuses a new value of 3.
	f.env.Exec(t, `ALTER TABLE grade_history ADD CONSTRAINT refuse_three CHECK (new_value IS DISTINCT FROM 3) NOT VALID`)
	f.env.Do(t, "PATCH", gradePath, f.teacher, map[string]any{"grade": 3}).Status(t, 500)
	if n := f.env.Count(t, `SELECT count(*) FROM lesson_submissions WHERE id = $1 AND grade = 5`, sub); n != 1 {
		t.Fatal("the grade changed although its history row failed")
	}
	if n := f.env.Count(t, `SELECT count(*) FROM grade_history`); n != 1 {
		t.Fatalf("%d history rows, want 1", n)
	}
	f.env.Do(t, "PATCH", gradePath, f.teacher, map[string]any{"grade": 4}).Status(t, 200)
	if n := f.env.Count(t, `SELECT count(*) FROM grade_history WHERE old_value = 5 AND new_value = 4`); n != 1 {
		t.Fatal("the next change is not recorded")
	}
}

// Deleting the submission (its grade goes with it), a test result, the
// lesson and the student: the rows stay, references NULL, names kept; the
// table refuses UPDATE and DELETE of its own.
func TestGradeHistorySurvivesDeletes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	sub := f.submission(t, f.lessonID, f.student.ID)
	f.env.Do(t, "PATCH", fmt.Sprintf("/lessons/submission/%d/grade", sub), f.teacher, map[string]any{"grade": 5}).Status(t, 200)
	second := f.submission(t, f.lessonID, f.student.ID)
	f.env.Do(t, "PATCH", fmt.Sprintf("/lessons/submission/%d/grade", second), f.teacher, map[string]any{"grade": 3}).Status(t, 200)
	f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/submission/%d", second), f.student, nil).Status(t, 200)
	testID := f.test(t, f.subjectID, &f.lessonID)
	res := f.result(t, f.student.ID, &f.lessonID, &testID, 66.67)
	f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/result/%d", res), f.teacher, nil).Status(t, 200)

	var rows []map[string]any
	f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d/history", f.lessonID), f.teacher, nil).Status(t, 200).Decode(t, &rows)
	if len(rows) != 4 {
		t.Fatalf("lesson history: %v", rows)
	}
	if r := rows[2]; r["old_value"] != num(3) || r["new_value"] != nil || r["submission_id"] != nil ||
		r["actor_role"] != "student" || r["endpoint"] != "DELETE /lessons/submission/{submission_id}" {
		t.Fatalf("deleted submission's row: %v", r)
	}
	if r := rows[3]; r["kind"] != "test" || r["result_id"] != num(int(res)) || r["old_value"] != 66.67 || r["new_value"] != nil ||
		r["endpoint"] != "DELETE /lessons/result/{result_id}" {
		t.Fatalf("deleted result's row: %v", r)
	}
	f.env.Do(t, "GET", fmt.Sprintf("/lessons/%d/history", f.lessonID), f.other, nil).Error(t, 403, "Нет доступа к предмету")

	// The API never changes a row; nor can anyone else.
	for _, q := range []string{`DELETE FROM grade_history`, `UPDATE grade_history SET new_value = 1`, `UPDATE grade_history SET student_name = 'x'`} {
		if _, err := f.env.Pool.Exec(t.Context(), q); err == nil {
			t.Fatalf("%s: allowed", q)
		}
	}

	f.env.Do(t, "DELETE", fmt.Sprintf("/lessons/%d", f.lessonID), f.teacher, nil).Status(t, 200)
	f.env.Do(t, "DELETE", "/admin/users/"+f.student.IIN, f.admin, nil).Status(t, 200)
	f.env.Do(t, "DELETE", "/admin/users/"+f.teacher.IIN, f.admin, nil).Status(t, 200)
	if n := f.env.Count(t, `SELECT count(*) FROM grade_history WHERE submission_id IS NULL AND lesson_id IS NULL
		AND student_id IS NULL AND actor_id IS NULL AND student_name = 'Иванов Иван Иванович' AND lesson_title = 'Введение'
		AND actor_name IS NOT NULL`); n != 4 {
		t.Fatalf("%d rows kept with NULL references and their names, want 4", n)
	}
}

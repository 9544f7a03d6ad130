package lessons_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"mime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// gradebookFixture adds to setup: a second group linked to the subject
// only, three lessons with homework and test results, and rows that must
// not show (a teacher member, another subject's work, the outsider).
type gradebookFixture struct {
	fixture
	testLesson, emptyLesson int32
	abaev, formula          apitest.User
}

func gradebookSetup(t *testing.T) gradebookFixture {
	t.Helper()
	g := gradebookFixture{fixture: setup(t)}
	f, env := g.fixture, g.env
	g.testLesson = env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'Тест 1', 'Тест', '') RETURNING id`, f.subjectID)
	g.emptyLesson = env.ID(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'Пусто', 'video', '') RETURNING id`, f.subjectID)
	g.abaev = env.User(t, auth.Student, apitest.WithName("Абаев Арман"))
	g.formula = env.User(t, auth.Student, apitest.WithName("=1+1 Тест"))
	group2 := env.ID(t, `INSERT INTO groups (name) VALUES ('ИС-22') RETURNING id`)
	env.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, f.subjectID, group2)
	for _, id := range []int32{g.abaev.ID, g.formula.ID, f.student.ID, f.other.ID} {
		env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, id, group2)
	}
	homework := func(lesson, user int32, grade *int, at string) {
		env.Exec(t, `INSERT INTO lesson_submissions (lesson_id, user_id, grade, submitted_at) VALUES ($1, $2, $3, $4)`, lesson, user, grade, at)
	}
	result := func(lesson, user int32, score float64, at string) {
		env.Exec(t, `INSERT INTO results (user_id, lesson_id, score, submitted_at) VALUES ($1, $2, $3, $4)`, user, lesson, score, at)
	}
	three, five := 3, 5
	// The student: the latest homework (5, not the earlier 3), the latest test (66.5, not 80).
	homework(f.lessonID, f.student.ID, &three, "2025-06-05 10:00:00")
	homework(f.lessonID, f.student.ID, &five, "2025-06-06 10:00:00")
	result(g.testLesson, f.student.ID, 80, "2025-06-05 10:00:00+00")
	result(g.testLesson, f.student.ID, 66.5, "2025-06-06 10:00:00+00")
	// Абаев: the latest homework is not graded yet → empty, though an older one was.
	homework(f.lessonID, g.abaev.ID, &five, "2025-06-05 10:00:00")
	homework(f.lessonID, g.abaev.ID, nil, "2025-06-07 10:00:00")
	// Not shown: the outsider's work, and the student's work in another subject.
	homework(f.lessonID, f.outsider.ID, &five, "2025-06-05 10:00:00")
	otherLesson := f.lesson(t, f.otherSubjectID, "x")
	homework(otherLesson, f.student.ID, &three, "2025-06-05 10:00:00")
	return g
}

var wantGradebook = [][]string{
	{"№", "ФИО", "ИИН", "Группы", "Введение", "Тест 1", "Пусто", "Сумма", "Средний балл"},
	{"1", "=1+1 Тест", "", "ИС-22", "", "", "", "", ""},
	{"2", "Абаев Арман", "", "ИС-22", "", "", "", "", ""},
	{"3", "Иванов Иван Иванович", "", "ИС-21, ИС-22", "5", "66.5", "", "71.5", "35.75"},
}

func (g gradebookFixture) want() [][]string {
	rows := make([][]string, len(wantGradebook))
	for i, r := range wantGradebook {
		rows[i] = slices.Clone(r)
	}
	rows[1][2], rows[2][2], rows[3][2] = g.formula.IIN, g.abaev.IIN, g.student.IIN
	return rows
}

func TestGradebookXLSX(t *testing.T) {
	t.Parallel()
	g := gradebookSetup(t)
	before := time.Now().UTC().Format("2006-01-02")
	res := g.env.Do(t, "GET", fmt.Sprintf("/lessons/subjects/%d/gradebook", g.subjectID), g.teacher, nil).Status(t, 200)
	after := time.Now().UTC().Format("2006-01-02")
	if ct := res.Header.Get("Content-Type"); ct != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Errorf("Content-Type %q", ct)
	}
	checkDisposition(t, res.Header.Get("Content-Disposition"), g.subjectID, "Математика", "xlsx", before, after)

	f, err := excelize.OpenReader(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatalf("open workbook: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows("Журнал")
	if err != nil {
		t.Fatal(err)
	}
	want := g.want()
	for i := range want { // GetRows drops trailing empty cells
		for len(want[i]) > 0 && want[i][len(want[i])-1] == "" {
			want[i] = want[i][:len(want[i])-1]
		}
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows\n got %q\nwant %q", rows, want)
	}
	// Grades are numbers, names are text (a leading "=" is no formula).
	for cell, want := range map[string]excelize.CellType{"E4": excelize.CellTypeUnset, "F4": excelize.CellTypeUnset, "B2": excelize.CellTypeInlineString} {
		if got, err := f.GetCellType("Журнал", cell); err != nil || got != want {
			t.Errorf("cell %s type %v (%v), want %v", cell, got, err, want)
		}
	}
	if formula, _ := f.GetCellFormula("Журнал", "B2"); formula != "" {
		t.Errorf("B2 is a formula: %q", formula)
	}
	if v, _ := f.GetCellValue("Журнал", "I4", excelize.Options{RawCellValue: true}); v != "35.75" {
		t.Errorf("average raw value %q", v)
	}
}

func TestGradebookCSV(t *testing.T) {
	t.Parallel()
	g := gradebookSetup(t)
	before := time.Now().UTC().Format("2006-01-02")
	res := g.env.Do(t, "GET", fmt.Sprintf("/lessons/subjects/%d/gradebook?format=csv", g.subjectID), g.admin, nil).Status(t, 200)
	after := time.Now().UTC().Format("2006-01-02")
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	checkDisposition(t, res.Header.Get("Content-Disposition"), g.subjectID, "Математика", "csv", before, after)
	body, ok := bytes.CutPrefix(res.Body, []byte("\xEF\xBB\xBF"))
	if !ok {
		t.Fatalf("no UTF-8 BOM: % x", res.Body[:min(8, len(res.Body))])
	}
	if !bytes.Contains(body, []byte("\r\n")) {
		t.Error("records not CRLF-terminated")
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := g.want()
	want[1][1] = "'=1+1 Тест" // formula defused
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows\n got %q\nwant %q", rows, want)
	}
}

// A group that sees the subject both through its module and directly
// names the student's group once, and lists the student once.
func TestGradebookGroupLinkedTwice(t *testing.T) {
	t.Parallel()
	g := gradebookSetup(t)
	g.env.Exec(t, `INSERT INTO module_group (module_id, group_id) SELECT $1, id FROM groups WHERE name = 'ИС-22'`, g.moduleID)
	res := g.env.Do(t, "GET", fmt.Sprintf("/lessons/subjects/%d/gradebook?format=csv", g.subjectID), g.teacher, nil).Status(t, 200)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(res.Body, []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := g.want()
	want[1][1] = "'=1+1 Тест"
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows\n got %q\nwant %q", rows, want)
	}
}

func checkDisposition(t *testing.T, header string, subjectID int32, title, ext, before, after string) {
	t.Helper()
	typ, params, err := mime.ParseMediaType(header)
	if err != nil || typ != "attachment" {
		t.Fatalf("Content-Disposition %q: %v", header, err)
	}
	// mime prefers the decoded filename* (RFC 2231/8187) over filename.
	ok := false
	for _, day := range []string{before, after} {
		ok = ok || params["filename"] == "gradebook_"+title+"_"+day+"."+ext &&
			strings.Contains(header, fmt.Sprintf(`filename="gradebook_subject%d_%s.%s"`, subjectID, day, ext))
	}
	if !ok {
		t.Errorf("Content-Disposition %q (decoded %q)", header, params["filename"])
	}
}

func TestGradebookAccess(t *testing.T) {
	t.Parallel()
	g := gradebookSetup(t)
	path := fmt.Sprintf("/lessons/subjects/%d/gradebook", g.subjectID)
	g.env.Do(t, "GET", path, apitest.User{}, nil).Error(t, 401, "Not authenticated")
	g.env.Do(t, "GET", path, g.student, nil).Error(t, 403, "Доступ воспрещен: только для преподавателей")
	g.env.Do(t, "GET", path, g.other, nil).Error(t, 403, "Нет доступа к предмету")
	g.env.Do(t, "GET", path, g.admin, nil).Status(t, 200)
	g.env.Do(t, "GET", "/lessons/subjects/999999/gradebook", g.teacher, nil).Error(t, 404, "Предмет не найден")
	g.env.Do(t, "GET", "/lessons/subjects/999999/gradebook", g.other, nil).Error(t, 404, "Предмет не найден")
	g.env.Do(t, "GET", "/lessons/subjects/x/gradebook", g.teacher, nil).HasIssue(t, "int_parsing", "path.subject_id")
	is := g.env.Do(t, "GET", path+"?format=pdf", g.teacher, nil).HasIssue(t, "literal_error", "query.format")
	if is.Input != "pdf" {
		t.Errorf("issue %+v", is)
	}
	g.env.Do(t, "GET", path+"?format=xlsx", g.teacher, nil).Status(t, 200)
}

// A subject without lessons or students still gives a file: the header
// only, and the ASCII name falls back to the id for an all-Cyrillic title.
func TestGradebookEmptySubject(t *testing.T) {
	t.Parallel()
	f := setup(t)
	res := f.env.Do(t, "GET", fmt.Sprintf("/lessons/subjects/%d/gradebook?format=csv", f.otherSubjectID), f.other, nil).Status(t, 200)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(res.Body, []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The module's group holds the fixture's student, so they are listed, with no lesson columns.
	want := [][]string{{"№", "ФИО", "ИИН", "Группы", "Сумма", "Средний балл"}, {"1", "Иванов Иван Иванович", f.student.IIN, "ИС-21", "", ""}}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("rows %q", rows)
	}
	f.env.Exec(t, `DELETE FROM user_group`)
	res = f.env.Do(t, "GET", fmt.Sprintf("/lessons/subjects/%d/gradebook", f.otherSubjectID), f.other, nil).Status(t, 200)
	wb, err := excelize.OpenReader(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if got, _ := wb.GetRows("Журнал"); len(got) != 1 {
		t.Errorf("rows %q, want the header only", got)
	}
}

// The gradebook costs three statements (subject, lessons, one streamed row
// per student) whatever the number of students and lessons.
func TestGradebookQueryCount(t *testing.T) {
	t.Parallel()
	g := gradebookSetup(t)
	for round := range 2 {
		for i := range 5 {
			u := g.env.User(t, auth.Student)
			g.env.Exec(t, `INSERT INTO user_group (user_id, group_id) SELECT $1, group_id FROM subject_group WHERE subject_id = $2`, u.ID, g.subjectID)
			l := g.lesson(t, g.subjectID, fmt.Sprint(round, i))
			g.env.Exec(t, `INSERT INTO lesson_submissions (lesson_id, user_id, grade, submitted_at) VALUES ($1, $2, 4, '2025-06-05 10:00:00')`, l, u.ID)
		}
		for _, q := range []string{"", "?format=csv"} {
			path := fmt.Sprintf("/lessons/subjects/%d/gradebook%s", g.subjectID, q)
			if got := g.env.Queries(func() { g.env.Do(t, "GET", path, g.teacher, nil).Status(t, 200) }) - apitest.AuthQueries; got != 3 {
				t.Errorf("round %d %q: %d statements, want 3", round, q, got)
			}
		}
	}
}

// Issue 19.4: every text cell of the CSV export is defused, the header's
// lesson titles included, for each character that starts a formula in a
// spreadsheet: = + - @ tab and CR.
func TestGradebookCSVDefusesEveryFormulaStart(t *testing.T) {
	t.Parallel()
	f := setup(t)
	group := f.env.ID(t, `INSERT INTO groups (name) VALUES ('=ИС') RETURNING id`)
	f.env.Exec(t, `INSERT INTO subject_group (subject_id, group_id) VALUES ($1, $2)`, f.subjectID, group)
	starts := []string{"=", "+", "-", "@", "\t", "\r"}
	for i, c := range starts {
		title := c + `HYPERLINK("http://evil.example","x")`
		f.env.Exec(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, $2, 'video', '')`, f.subjectID, title)
		u := f.env.User(t, auth.Student, apitest.WithName(fmt.Sprintf("%scmd|' /C calc'!A%d", c, i)))
		f.env.Exec(t, `INSERT INTO user_group (user_id, group_id) VALUES ($1, $2)`, u.ID, group)
	}
	res := f.env.Do(t, "GET", fmt.Sprintf("/lessons/subjects/%d/gradebook?format=csv", f.subjectID), f.teacher, nil).Status(t, 200)
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(res.Body, []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// Every cell made from a title or a name above starts with the
	// apostrophe (encoding/csv drops a CR in CRLF mode, after it), and no
	// cell at all starts a formula.
	defused := 0
	for r, row := range rows {
		for c, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("row %d, column %d starts a formula: %q", r, c, cell)
			}
			if strings.Contains(cell, "HYPERLINK(") || strings.Contains(cell, "cmd|") {
				if !strings.HasPrefix(cell, "'") {
					t.Errorf("row %d, column %d not defused: %q", r, c, cell)
				}
				defused++
			}
		}
	}
	if defused != 2*len(starts) {
		t.Errorf("%d title and name cells, want %d", defused, 2*len(starts))
	}
}

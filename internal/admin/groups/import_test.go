package groups_test

import (
	"bytes"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/xuri/excelize/v2"

	"platform/internal/apitest"
	"platform/internal/auth"
)

const importPath = "/admin/groups/upload-excel"

func TestImportExcel(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	existing := env.User(t, auth.Teacher, apitest.WithIIN("999999999999"), apitest.WithName("Уже Есть"))
	file := xlsx(t,
		[]any{},
		[]any{" Группа ", "ИИН", "ФИО ", "Описание", "Лишнее"},
		[]any{" ИС-21 ", 12345678901, "  Иванов Иван  ", " Поток А ", "x"}, // numeric, lost leading zero
		[]any{"ИС-99", "111111111112", "Петров Пётр"},                      // text; another group cell is ignored
		[]any{nil, 111111111113, "Сидоров"},                                // numeric, 12 digits
		[]any{"ИС-21", "111111111112", "Дубль"},                            // duplicate in file
		[]any{"ИС-21", "12345", "Короткий"},                                // text never padded
		[]any{"ИС-21", "12345678901", "Текст 11"},                          // 11-digit text: invalid
		[]any{"ИС-21", 1234567890.5, "Дробь"},                              // fraction
		[]any{"ИС-21", "222222222222", "   "},                              // no name
		[]any{"ИС-21", "333333333333", string(bytes.Repeat([]byte("я"), 256))},
		[]any{" ", nil, "  "}, // blank row: ignored
		[]any{"ИС-21", "999999999999", "Новое Имя"}, // existing user, unchanged
	)
	res := upload(t, env, importPath, admin, "file", "group.xlsx", file)
	res.Status(t, 200)
	got := res.Map(t)
	gid, _ := got["group_id"].(float64)
	want := map[string]any{
		"message": "Создана группа 'ИС-21' с 4 пользователями.", "group_id": gid, "group_name": "ИС-21", "import_id": got["import_id"],
		"created": float64(3), "existing": float64(1), "skipped": float64(6),
		"errors": []any{
			map[string]any{"row": float64(6), "iin": "111111111112", "reason": "ИИН повторяется в файле"},
			map[string]any{"row": float64(7), "iin": "12345", "reason": "Некорректный ИИН"},
			map[string]any{"row": float64(8), "iin": "12345678901", "reason": "Некорректный ИИН"},
			map[string]any{"row": float64(9), "iin": "1234567890.5", "reason": "Некорректный ИИН"},
			map[string]any{"row": float64(10), "iin": "222222222222", "reason": "Не указано ФИО"},
			map[string]any{"row": float64(11), "iin": "333333333333", "reason": "ФИО длиннее 255 символов"},
		},
	}
	// The new accounts' one-time passwords (TestImportOneTimePasswords).
	creds, _ := got["credentials"].([]any)
	delete(got, "credentials")
	if len(creds) != 3 {
		t.Errorf("credentials %v, want 3", creds)
	}
	if gid == 0 || got["import_id"] == float64(0) || !equalJSON(got, want) {
		t.Fatalf("got  %s\nwant %v", res.Body, want)
	}
	// The import's progress and outcome reached the server's metrics.
	for stage, n := range map[string]float64{"hashed": 3, "created": 3, "existing": 1, "skipped": 6} {
		if v := testutil.ToFloat64(env.Metrics.ImportRows.WithLabelValues(stage)); v != n {
			t.Errorf("platform_import_rows_total{stage=%q} = %v, want %v", stage, v, n)
		}
	}
	if v := testutil.ToFloat64(env.Metrics.ImportRows.WithLabelValues("read")); v < 4 {
		t.Errorf("rows read %v", v)
	}
	if v := testutil.ToFloat64(env.Metrics.ImportsRunning); v != 0 {
		t.Errorf("imports in progress after the import: %v", v)
	}
	if n := env.Count(t, `SELECT count(*) FROM groups WHERE id = $1 AND name = 'ИС-21' AND description = 'Поток А'`, int32(gid)); n != 1 {
		t.Fatal("group not created with its description")
	}
	for iin, name := range map[string]string{"012345678901": "Иванов Иван", "111111111112": "Петров Пётр", "111111111113": "Сидоров"} {
		if n := env.Count(t, `SELECT count(*) FROM users u JOIN user_group ug ON ug.user_id = u.id
			WHERE u.iin = $1 AND u.full_name = $2 AND u.role = 'student' AND u.phone IS NULL AND ug.group_id = $3`, iin, name, int32(gid)); n != 1 {
			t.Fatalf("user %s not created and linked", iin)
		}
		// A one-time password (issue 21); the IIN-derived one is not it.
		env.Do(t, "POST", "/auth/login", apitest.User{}, map[string]any{"iin": iin, "password": iin[:3] + iin[9:]}).Status(t, 401)
		pw := ""
		for _, c := range creds {
			if c := c.(map[string]any); c["iin"] == iin {
				pw, _ = c["password"].(string)
			}
		}
		env.Do(t, "POST", "/auth/login", apitest.User{}, map[string]any{"iin": iin, "password": pw}).Status(t, 200)
	}
	if n := env.Count(t, `SELECT count(*) FROM users u JOIN user_group ug ON ug.user_id = u.id
		WHERE u.id = $1 AND u.full_name = 'Уже Есть' AND u.role = 'teacher'`, existing.ID); n != 1 {
		t.Fatal("existing user changed or not linked")
	}

	// Re-import: same group, nobody created twice.
	res = upload(t, env, importPath, admin, "file", "group.XLSM", file)
	res.Status(t, 200)
	got = res.Map(t)
	if got["message"] != "Обновлена группа 'ИС-21' с 4 пользователями." || got["created"] != float64(0) ||
		got["existing"] != float64(4) || got["group_id"] != gid {
		t.Fatalf("re-import %s", res.Body)
	}
	if n := env.Count(t, `SELECT count(*) FROM users`); n != 5 {
		t.Fatalf("%d users, want 5", n)
	}
	if n := env.Count(t, `SELECT count(*) FROM groups`); n != 1 {
		t.Fatalf("%d groups", n)
	}
}

func TestImportExcelNameParts(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	env.Exec(t, `INSERT INTO groups (name, description) VALUES ('ИС-22', 'старое')`)
	file := xlsx(t,
		[]any{"Фамилия", "Имя", "Отчество", "ИИН", "Группа", "Описание"},
		[]any{" Иванова ", "Анна", nil, "444444444444", "ИС-22", "новое"},
		[]any{"Ким", "", "Ли", 555555555555.0, "ИС-22"},
	)
	res := upload(t, env, importPath, admin, "file", "g.xlsx", file)
	res.Status(t, 200)
	if got := res.Map(t); got["message"] != "Обновлена группа 'ИС-22' с 2 пользователями." || got["created"] != float64(2) {
		t.Fatalf("got %s", res.Body)
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE (iin, full_name) IN (('444444444444', 'Иванова Анна'), ('555555555555', 'Ким Ли'))`); n != 2 {
		t.Fatal("names not assembled")
	}
	if n := env.Count(t, `SELECT count(*) FROM groups WHERE description = 'старое'`); n != 1 {
		t.Fatal("existing group's description changed")
	}
}

func TestImportExcelRefused(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	good := xlsx(t, []any{"Группа", "ИИН", "ФИО"}, []any{"Г", "123456789012", "Имя"})
	cases := []struct {
		name, filename string
		content        []byte
		status         int
		detail         string
	}{
		{"xls", "old.XLS", good, 400, "Формат .xls не поддерживается. Сохраните файл в формате .xlsx"},
		{"csv", "g.csv", good, 400, "Недопустимый тип файла: .csv"},
		{"no extension", "g", good, 400, "Недопустимый тип файла: без расширения"},
		{"trailing slash", "g.xlsx/", good, 400, "Недопустимый тип файла: без расширения"},
		{"not a workbook", "g.xlsx", []byte("Группа;ИИН;ФИО"), 400, "Не удалось прочитать Excel-файл"},
		{"no name columns", "g.xlsx", xlsx(t, []any{"Группа", "ИИН", "Фамилия", "Имя"}, []any{"Г", "123456789012", "А", "Б"}), 400,
			"Ожидается либо столбец 'ФИО', либо тройка: 'Фамилия', 'Имя', 'Отчество'"},
		{"no group column", "g.xlsx", xlsx(t, []any{"группа", "ИИН", "ФИО"}, []any{"Г", "123456789012", "А"}), 400,
			"Ожидаются столбцы: Группа, ИИН и ФИО (или Фамилия+Имя+Отчество)"},
		{"no iin column", "g.xlsx", xlsx(t, []any{"Группа", "ФИО"}, []any{"Г", "А"}), 400,
			"Ожидаются столбцы: Группа, ИИН и ФИО (или Фамилия+Имя+Отчество)"},
		{"empty sheet", "g.xlsx", xlsx(t), 400, "Файл не содержит строк с данными"},
		{"header only", "g.xlsx", xlsx(t, []any{"Группа", "ИИН", "ФИО"}, []any{" ", nil}), 400, "Файл не содержит строк с данными"},
		{"no group name", "g.xlsx", xlsx(t, []any{"Группа", "ИИН", "ФИО"}, []any{nil, "123456789012", "А"}), 400, "В файле не указано название группы"},
		{"group name too long", "g.xlsx", xlsx(t, []any{"Группа", "ИИН", "ФИО"}, []any{string(bytes.Repeat([]byte("г"), 101)), "123456789012", "А"}), 400, "Название группы длиннее 100 символов"},
		{"too large", "g.xlsx", append(good, make([]byte, 10<<20)...), 413, "Файл слишком большой (до 10 МБ)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			upload(t, env, importPath, admin, "file", c.filename, c.content).Error(t, c.status, c.detail)
		})
	}
	upload(t, env, importPath, admin, "photo", "g.xlsx", good).HasIssue(t, "missing", "body.file")
	if n := env.Count(t, `SELECT count(*) FROM users`); n != 1 {
		t.Fatal("a refused import wrote users")
	}
	if n := env.Count(t, `SELECT count(*) FROM groups`); n != 0 {
		t.Fatal("a refused import wrote a group")
	}
}

// TestImportExcelWorkbookForms imports workbooks written by excelize in the
// ways real files differ: the streaming writer (inline strings, formulas with
// cached values, header below row 1, empty rows in between, a second sheet),
// numbers stored in exponent form, the first sheet moved before the default
// one, and a formula without a cached value.
func TestImportExcelWorkbookForms(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	write := func(f *excelize.File) []byte {
		t.Helper()
		defer f.Close()
		buf, err := f.WriteToBuffer()
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}

	// Streaming writer: inline strings, formulas with cached values.
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		cell string
		row  []any
	}{
		{"B3", []any{"ФИО", " ИИН ", "Группа"}},
		{"B5", []any{"Первый", excelize.Cell{Formula: "12345678900+1", Value: 12345678901}, "Поток-1"}},
		{"B6", []any{excelize.Cell{Formula: `"Вто"&"рой"`, Value: "Второй"}, excelize.Cell{Formula: `"0123"&"45678902"`, Value: "012345678902"}, "Поток-1"}},
		{"B8", []any{"Третий", 1.23456789012e11, nil}},
		{"B9", []any{"Четвёртый", excelize.Cell{Formula: `"1234"`, Value: "1234"}, "Поток-1"}},
	} {
		if err := sw.SetRow(r.cell, r.row); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet("Второй лист"); err != nil {
		t.Fatal(err)
	}
	f.SetSheetRow("Второй лист", "A1", &[]any{"Группа", "ИИН", "ФИО"})
	f.SetSheetRow("Второй лист", "A2", &[]any{"Чужая", "999999999999", "Не отсюда"})
	res := upload(t, env, importPath, admin, "file", "stream.xlsx", write(f))
	res.Status(t, 200)
	got := res.Map(t)
	delete(got, "credentials")
	want := map[string]any{"message": "Создана группа 'Поток-1' с 3 пользователями.", "group_id": got["group_id"], "group_name": "Поток-1", "import_id": got["import_id"],
		"created": float64(3), "existing": float64(0), "skipped": float64(1),
		"errors": []any{map[string]any{"row": float64(9), "iin": "1234", "reason": "Некорректный ИИН"}}}
	if !equalJSON(got, want) {
		t.Fatalf("stream: got %s", res.Body)
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE (iin, full_name) IN
		(('012345678901', 'Первый'), ('012345678902', 'Второй'), ('123456789012', 'Третий'))`); n != 3 {
		t.Fatalf("stream: users %s", res.Body)
	}

	// Numbers in exponent form (as some writers store them); a formula
	// without a cached value has no IIN.
	f = excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"Группа", "ИИН", "ФИО"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"Экспонента", nil, "Пятый"})
	f.SetCellDefault("Sheet1", "B2", "2.345678901E10")
	f.SetSheetRow("Sheet1", "A3", &[]any{"Экспонента", nil, "Шестой"})
	f.SetCellDefault("Sheet1", "B3", "2.23456789012E+11")
	f.SetSheetRow("Sheet1", "A4", &[]any{"Экспонента", nil, "Седьмой"})
	f.SetCellFormula("Sheet1", "B4", "1+1")
	res = upload(t, env, importPath, admin, "file", "exp.xlsx", write(f))
	res.Status(t, 200)
	got = res.Map(t)
	if got["created"] != float64(2) || !equalJSON(got["errors"], []any{map[string]any{"row": float64(4), "iin": "", "reason": "Некорректный ИИН"}}) {
		t.Fatalf("exponent: got %s", res.Body)
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE iin IN ('023456789010', '223456789012')`); n != 2 {
		t.Fatalf("exponent: users %s", res.Body)
	}

	// The first sheet in workbook order, not the default one.
	f = excelize.NewFile()
	f.NewSheet("Данные")
	f.SetSheetRow("Данные", "A1", &[]any{"Группа", "ИИН", "ФИО"})
	f.SetSheetRow("Данные", "A2", &[]any{"Первый лист", 333333333333, "Восьмой"})
	f.SetSheetRow("Sheet1", "A1", &[]any{"Группа", "ИИН", "ФИО"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"Второй лист", 444444444444, "Девятый"})
	f.MoveSheet("Данные", "Sheet1")
	res = upload(t, env, importPath, admin, "file", "order.xlsx", write(f))
	res.Status(t, 200)
	if got := res.Map(t); got["group_name"] != "Первый лист" || got["created"] != float64(1) {
		t.Fatalf("sheet order: got %s", res.Body)
	}
}

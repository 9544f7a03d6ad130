package groups

import (
	"errors"
	"io"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"platform/internal/apperr"
	"platform/internal/web"
	"platform/internal/xlsx"
)

// Texts of the Excel import (API.md §5 upload-excel).
const (
	msgExcelUnreadable = "Не удалось прочитать Excel-файл"
	msgExcelNameCols   = "Ожидается либо столбец 'ФИО', либо тройка: 'Фамилия', 'Имя', 'Отчество'"
	msgExcelCols       = "Ожидаются столбцы: Группа, ИИН и ФИО (или Фамилия+Имя+Отчество)"
	msgExcelNoRows     = "Файл не содержит строк с данными"
	msgExcelNoGroup    = "В файле не указано название группы"
	msgExcelGroupLong  = "Название группы длиннее 100 символов"
	msgExcelTooMany    = "В файле больше 10000 строк с данными"

	reasonBadIIN    = "Некорректный ИИН"
	reasonNoName    = "Не указано ФИО"
	reasonLongName  = "ФИО длиннее 255 символов"
	reasonDuplicate = "ИИН повторяется в файле"
)

// The header texts (trimmed, matched exactly).
const (
	colGroup      = "Группа"
	colIIN        = "ИИН"
	colFullName   = "ФИО"
	colLastName   = "Фамилия"
	colFirstName  = "Имя"
	colMiddleName = "Отчество"
	colDesc       = "Описание"
)

// fullNameMax is the size of users.full_name.
const fullNameMax = 255

// maxRosterRows bounds the data rows of one import (400 beyond): a group is
// tens of students, a whole college's intake a few thousand, while the rows
// kept for the import and its report must not grow with a sheet inflated
// from a small zip.
const maxRosterRows = 10000

// echoMax is how much of a rejected cell the report repeats: enough to find
// the row, never the whole cell (a cell may hold 32,767 characters).
const echoMax = 64

// echo is s cut to echoMax characters, "…" marking a cut.
func echo(s string) string {
	if utf8.RuneCountInString(s) <= echoMax {
		return s
	}
	return string([]rune(s)[:echoMax]) + "…"
}

// roster is an import file parsed: the group, the accepted rows (distinct
// IINs, file order) and the skipped rows with their reasons.
type roster struct {
	GroupName string
	GroupDesc *string
	Rows      []rosterRow
	Errors    []importError
}

// rosterRow is one accepted person.
type rosterRow struct {
	Row  int    `json:"row"`
	IIN  string `json:"iin"`
	Name string `json:"name"`
}

// columns maps the header to column indexes (-1 when absent).
type columns struct {
	group, iin, fullName, last, first, middle, desc int
}

// parseRoster reads the first worksheet of the workbook (API.md §5): the
// header is its first non-empty row, both name layouts are accepted, bad
// rows are reported with their Excel row number without stopping the good
// ones. progress, when set, is called with the number of data rows read so
// far every progressEvery rows. Errors are the contract's 400s.
func parseRoster(r io.ReaderAt, size int64, progressEvery int, progress func(rows int)) (roster, error) {
	sheet, err := xlsx.OpenFirstSheet(r, size)
	if err != nil {
		return roster{}, unreadable(err)
	}
	defer sheet.Close()

	var (
		out     roster
		cols    columns
		header  bool
		data    int
		hasName bool
		seen    = map[string]bool{}
	)
	for {
		rowNum, cells, err := sheet.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return roster{}, unreadable(err)
		}
		if blank(cells) {
			continue
		}
		if !header {
			header = true
			if cols, err = headerColumns(cells); err != nil {
				return roster{}, err
			}
			continue
		}
		data++
		if data > maxRosterRows {
			return roster{}, apperr.BadRequest(msgExcelTooMany)
		}
		if progress != nil && progressEvery > 0 && data%progressEvery == 0 {
			progress(data)
		}
		if !hasName {
			if g := strings.TrimSpace(at(cells, cols.group).Text); g != "" {
				hasName = true
				out.GroupName = g
				desc := strings.TrimSpace(at(cells, cols.desc).Text)
				if utf8.RuneCountInString(desc) > web.MaxGroupDescription {
					desc = string([]rune(desc)[:web.MaxGroupDescription]) // as POST /admin/groups/ caps it
				}
				out.GroupDesc = web.NullIfEmpty(desc)
			}
		}
		iin, ok := cellIIN(at(cells, cols.iin))
		name := cols.name(cells)
		reason := ""
		switch {
		case !ok:
			reason = reasonBadIIN
		case name == "":
			reason = reasonNoName
		case utf8.RuneCountInString(name) > fullNameMax:
			reason = reasonLongName
		case seen[iin]:
			reason = reasonDuplicate
		}
		if reason != "" {
			out.Errors = append(out.Errors, importError{Row: rowNum, IIN: echo(iin), Reason: reason})
			continue
		}
		seen[iin] = true
		out.Rows = append(out.Rows, rosterRow{Row: rowNum, IIN: iin, Name: name})
	}
	switch {
	case data == 0:
		// Also an empty sheet: there is nothing to import whatever the columns.
		return roster{}, apperr.BadRequest(msgExcelNoRows)
	case !hasName:
		return roster{}, apperr.BadRequest(msgExcelNoGroup)
	case utf8.RuneCountInString(out.GroupName) > groupNameMax:
		return roster{}, apperr.BadRequest(msgExcelGroupLong)
	}
	if out.Errors == nil {
		out.Errors = []importError{}
	}
	return out, nil
}

func unreadable(err error) error {
	if errors.Is(err, xlsx.ErrBadWorkbook) {
		return &apperr.Error{Kind: apperr.KindBadRequest, Detail: msgExcelUnreadable, Err: err}
	}
	return err
}

// headerColumns locates the columns, checking them in the original's order:
// the name layout first, then Группа and ИИН.
func headerColumns(cells []xlsx.Cell) (columns, error) {
	idx := map[string]int{}
	for i, c := range cells {
		h := strings.TrimSpace(c.Text)
		if _, dup := idx[h]; h != "" && !dup {
			idx[h] = i
		}
	}
	col := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		return -1
	}
	c := columns{group: col(colGroup), iin: col(colIIN), fullName: col(colFullName),
		last: col(colLastName), first: col(colFirstName), middle: col(colMiddleName), desc: col(colDesc)}
	if c.fullName < 0 && (c.last < 0 || c.first < 0 || c.middle < 0) {
		return columns{}, apperr.BadRequest(msgExcelNameCols)
	}
	if c.group < 0 || c.iin < 0 {
		return columns{}, apperr.BadRequest(msgExcelCols)
	}
	return c, nil
}

// name is the row's full name: ФИО trimmed, or the three parts trimmed,
// empty parts skipped, joined with single spaces.
func (c columns) name(cells []xlsx.Cell) string {
	if c.fullName >= 0 {
		return strings.TrimSpace(at(cells, c.fullName).Text)
	}
	parts := make([]string, 0, 3)
	for _, i := range []int{c.last, c.first, c.middle} {
		if p := strings.TrimSpace(at(cells, i).Text); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// at is the cell in column i, or an empty cell.
func at(cells []xlsx.Cell, i int) xlsx.Cell {
	if i < 0 || i >= len(cells) {
		return xlsx.Cell{}
	}
	return cells[i]
}

func blank(cells []xlsx.Cell) bool {
	for _, c := range cells {
		if strings.TrimSpace(c.Text) != "" {
			return false
		}
	}
	return true
}

// maxIINNumber bounds numeric cells before exact parsing (13 digits are
// already invalid; the bound keeps a value like 1E+999999 from being expanded).
const maxIINNumber = 1e13

// cellIIN reads the IIN of a cell (API.md §5): a number holding a whole
// value is written in plain digits and left-padded with zeros to 12 (Excel
// drops leading zeros), a fraction is invalid; text is trimmed and taken as
// is. ok reports whether the result is 12 digits. The returned string is
// what the error report shows.
func cellIIN(c xlsx.Cell) (iin string, ok bool) {
	if !c.Number {
		s := strings.TrimSpace(c.Text)
		return s, web.IsIIN(s)
	}
	raw := strings.TrimSpace(c.Text)
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || f < 0 || f >= maxIINNumber {
		return raw, false
	}
	exact, isNum := new(big.Rat).SetString(raw)
	if !isNum || !exact.IsInt() {
		return raw, false
	}
	digits := exact.Num().String()
	if len(digits) < 12 {
		digits = strings.Repeat("0", 12-len(digits)) + digits
	}
	return digits, web.IsIIN(digits)
}

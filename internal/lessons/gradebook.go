package lessons

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/xuri/excelize/v2"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/policy"
	"platform/internal/timefmt"
	"platform/internal/web"
)

// The gradebook of a subject (issue 15): GET /lessons/subjects/{subject_id}/gradebook.
//
// Rows: every student (role student) of the groups that can see the subject
// (§0.6: groups linked to its module or to the subject itself), ordered by
// full name then id; a student in several such groups appears once.
// Columns: "№", "ФИО", "ИИН", "Группы" (those of the subject's groups the
// student is in), one column per lesson of the subject (ordered by id,
// headed by its title), then "Сумма" and "Средний балл".
// A lesson cell is the value of the student's latest submission for that
// lesson, homework or test alike (by submitted_at, then test before
// homework, then the higher id): the homework grade, or the test score
// (results.lesson_id). It is empty when there is none, or when the latest
// is a homework not graded yet. "Сумма" adds the non-empty cells;
// "Средний балл" is that sum divided by the number of non-empty cells,
// rounded to 2 decimals (empty cells are not zeros); both empty when no
// cell is filled.
//
// Cost: three queries whatever the size (subject, lessons, one row per
// student with its cells as an array), rows streamed from the database
// into the writer: excelize's StreamWriter for .xlsx, encoding/csv for CSV.

const (
	contentTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	contentTypeCSV  = "text/csv; charset=utf-8"
)

// gradebookFixedHeader is the header before the lesson columns.
var gradebookFixedHeader = []string{"№", "ФИО", "ИИН", "Группы"}

type gradebookLesson struct {
	ID    int32      `db:"id"`
	Title string     `db:"title"`
	DueAt *time.Time `db:"due_at"`
}

// gradebookRow is one student and its lesson cells (nil = empty), aligned
// with the lessons of the header.
type gradebookRow struct {
	FullName string
	IIN      string
	Groups   string
	Cells    []*float64
	Late     []bool // per cell: the counted submission came after its deadline
}

// gradebook is GET /lessons/subjects/{subject_id}/gradebook[?format=xlsx|csv].
func (h *Handler) gradebook(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	subjectID, pathErr := web.PathID(r, "subject_id")
	format, formatErr := gradebookFormat(r)
	if err := apperr.JoinInvalid(pathErr, formatErr); err != nil {
		return err
	}
	repo := NewRepo(h.pool)
	subject, err := repo.gradebookSubject(ctx, subjectID)
	if err := policy.RequireManage(u, subject.Subject, err, "Предмет не найден", "Нет доступа к предмету"); err != nil {
		return err
	}
	lessons, err := repo.gradebookLessons(ctx, subjectID)
	if err != nil {
		return err
	}
	name := gradebookFileName(subject.Title, subjectID, time.Now().UTC(), format)
	header := make([]string, 0, len(gradebookFixedHeader)+len(lessons)+2)
	header = append(header, gradebookFixedHeader...)
	ids := make([]int32, len(lessons))
	titles := make([]string, len(lessons))
	deadlines := false // issue 24: deadline in the lesson's header, and a "late" column
	for i, l := range lessons {
		titles[i] = l.Title
		if l.DueAt != nil {
			deadlines = true
			titles[i] += " (срок " + timefmt.Format(*l.DueAt) + ")"
		}
		ids[i] = l.ID
	}
	header = append(header, titles...)
	header = append(header, "Сумма", "Средний балл")
	if deadlines {
		header = append(header, gradebookLateHeader)
	}
	lateOf := func(row gradebookRow) (string, bool) {
		if !deadlines {
			return "", false
		}
		var late []string
		for i, l := range row.Late {
			if l {
				late = append(late, lessons[i].Title)
			}
		}
		return strings.Join(late, ", "), true
	}

	if format == "csv" {
		return h.gradebookCSV(w, r, subjectID, ids, header, name, lateOf)
	}
	if len(header) > excelize.MaxColumns {
		// A sheet holds at most 16,384 columns (issue 21: was a 500).
		return apperr.BadRequest(fmt.Sprintf("В журнале %d уроков, а лист .xlsx вмещает не больше %d: выгрузите журнал в CSV (?format=csv)",
			len(lessons), excelize.MaxColumns-(len(header)-len(lessons))))
	}
	return h.gradebookXLSX(w, r, subjectID, ids, header, name, lateOf)
}

// gradebookLateHeader heads the last column when a lesson of the subject
// has a deadline: the titles of the lessons whose counted submission was late.
const gradebookLateHeader = "Сдано с опозданием"

// gradebookFormat reads ?format: absent or "xlsx" → xlsx, "csv" → csv.
func gradebookFormat(r *http.Request) (string, error) {
	vs, ok := r.URL.Query()["format"]
	if !ok {
		return "xlsx", nil
	}
	v := vs[len(vs)-1]
	if v == "xlsx" || v == "csv" {
		return v, nil
	}
	return "", apperr.Invalid(apperr.Issue{Type: "literal_error", Loc: []any{"query", "format"},
		Msg: "Input should be 'xlsx' or 'csv'", Input: v, Ctx: map[string]any{"expected": "'xlsx' or 'csv'"}})
}

// gradebookXLSX builds the workbook with the StreamWriter (rows go to
// excelize's buffer, spilled to a temporary file when large) and writes it
// once complete, so a failure midway is still a clean error response.
func (h *Handler) gradebookXLSX(w http.ResponseWriter, r *http.Request, subjectID int32, lessonIDs []int32, header []string, name fileName,
	lateOf func(gradebookRow) (string, bool)) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Журнал"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("lessons: gradebook sheet: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("lessons: gradebook stream: %w", err)
	}
	if err := sw.SetColWidth(2, 2, 36); err != nil {
		return fmt.Errorf("lessons: gradebook width: %w", err)
	}
	line := 1
	put := func(vals []any) error {
		cell, err := excelize.CoordinatesToCellName(1, line)
		if err == nil {
			err = sw.SetRow(cell, vals)
		}
		line++
		return err
	}
	head := make([]any, len(header))
	for i, v := range header {
		head[i] = v
	}
	if err := put(head); err != nil {
		return fmt.Errorf("lessons: gradebook header: %w", err)
	}
	vals := make([]any, len(header))
	err = NewRepo(h.pool).gradebookRows(r.Context(), subjectID, lessonIDs, func(n int, row gradebookRow) error {
		vals = vals[:0]
		vals = append(vals, n, row.FullName, row.IIN, row.Groups)
		for _, c := range row.Cells {
			if c == nil {
				vals = append(vals, nil)
			} else {
				vals = append(vals, *c)
			}
		}
		sum, avg, ok := totals(row.Cells)
		if ok {
			vals = append(vals, sum, avg)
		} else {
			vals = append(vals, nil, nil)
		}
		if late, ok := lateOf(row); ok {
			vals = append(vals, late)
		}
		return put(vals)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("lessons: gradebook flush: %w", err)
	}
	setDownload(w, contentTypeXLSX, name)
	w.WriteHeader(http.StatusOK)
	if err := f.Write(w); err != nil {
		abort(r, err) // headers are out: the client must not take a torn file for a whole one
	}
	return nil
}

// gradebookCSV streams RFC 4180 CSV (comma, CRLF) in UTF-8 with a BOM, so
// Excel opens Cyrillic correctly. Every text cell — the header's lesson
// titles included — starting with = + - @ tab or CR gets a leading
// apostrophe so a spreadsheet does not run it as a formula (OWASP CSV
// injection); grades and totals are numbers and stay as they are.
func (h *Handler) gradebookCSV(w http.ResponseWriter, r *http.Request, subjectID int32, lessonIDs []int32, header []string, name fileName,
	lateOf func(gradebookRow) (string, bool)) error {
	out := &lazyWriter{w: w, start: func() { setDownload(w, contentTypeCSV, name); w.WriteHeader(http.StatusOK) }}
	buf := bufio.NewWriterSize(out, 32<<10)
	cw := csv.NewWriter(buf)
	cw.UseCRLF = true
	_, _ = buf.WriteString("\uFEFF")
	rec := make([]string, 0, len(header))
	for _, title := range header {
		rec = append(rec, csvText(title))
	}
	_ = cw.Write(rec)
	err := NewRepo(h.pool).gradebookRows(r.Context(), subjectID, lessonIDs, func(n int, row gradebookRow) error {
		rec = rec[:0]
		rec = append(rec, strconv.Itoa(n), csvText(row.FullName), csvText(row.IIN), csvText(row.Groups))
		for _, c := range row.Cells {
			if c == nil {
				rec = append(rec, "")
			} else {
				rec = append(rec, strconv.FormatFloat(*c, 'f', -1, 64))
			}
		}
		if sum, avg, ok := totals(row.Cells); ok {
			rec = append(rec, strconv.FormatFloat(sum, 'f', -1, 64), strconv.FormatFloat(avg, 'f', -1, 64))
		} else {
			rec = append(rec, "", "")
		}
		if late, ok := lateOf(row); ok {
			rec = append(rec, csvText(late))
		}
		return cw.Write(rec)
	})
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err != nil {
		if !out.started {
			return err // nothing sent yet: an ordinary error response
		}
		abort(r, err)
	}
	if err := buf.Flush(); err != nil {
		abort(r, err)
	}
	if !out.started { // an empty body cannot happen (BOM + header), but be exact
		out.start()
	}
	return nil
}

// abort logs a failure after the response has started and drops the
// connection, so the download fails visibly instead of ending short.
// A client that went away is not logged as an error.
func abort(r *http.Request, err error) {
	if r.Context().Err() == nil {
		web.Logger(r.Context()).Error("gradebook: response failed midway", "err", err)
	}
	panic(http.ErrAbortHandler)
}

// lazyWriter sends the response headers on the first write.
type lazyWriter struct {
	w       io.Writer
	start   func()
	started bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.start()
	}
	return l.w.Write(p)
}

// csvText defuses spreadsheet formulas in a text cell.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// totals is the sum and the average (2 decimals) of the non-empty cells;
// ok is false when every cell is empty.
func totals(cells []*float64) (sum, avg float64, ok bool) {
	n := 0
	for _, c := range cells {
		if c != nil {
			sum += *c
			n++
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	// Rounded as Python's round(x, 2) (see ARCHITECTURE.md): on the exact binary value.
	avg, _ = strconv.ParseFloat(strconv.FormatFloat(sum/float64(n), 'f', 2, 64), 64)
	sum, _ = strconv.ParseFloat(strconv.FormatFloat(sum, 'f', 2, 64), 64)
	return sum, avg, true
}

// setDownload sets the attachment headers; the name is given twice, as
// RFC 6266 advises: an ASCII filename= for old clients and filename*= in
// UTF-8 (RFC 8187) for Cyrillic titles.
func setDownload(w http.ResponseWriter, contentType string, name fileName) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition",
		`attachment; filename="`+name.ascii+`"; filename*=UTF-8''`+pctEncode(name.utf8))
	w.Header().Set("Cache-Control", "no-store") // grades are personal data
}

// fileName is a download name and its ASCII fallback.
type fileName struct{ utf8, ascii string }

// gradebookFileName is gradebook_<subject>_<YYYY-MM-DD>.<ext>: the subject
// title with blanks as underscores and characters unsafe in file names
// dropped. The ASCII fallback keeps only its ASCII characters, or names the
// subject by id when none are left ("gradebook_subject12_2026-12-01.xlsx").
func gradebookFileName(title string, id int32, now time.Time, ext string) fileName {
	var full, ascii strings.Builder
	for _, r := range strings.TrimSpace(title) {
		switch {
		case unicode.IsSpace(r):
			r = '_'
		case unicode.IsControl(r) || strings.ContainsRune(`/\:*?"<>|;%`, r):
			continue
		}
		full.WriteRune(r)
		if r < 0x7f {
			ascii.WriteRune(r)
		}
	}
	name := func(subject string) string {
		if strings.Trim(subject, "_.-") == "" {
			subject = "subject" + strconv.Itoa(int(id))
		}
		return "gradebook_" + subject + "_" + now.Format("2006-01-02") + "." + ext
	}
	return fileName{utf8: name(full.String()), ascii: name(ascii.String())}
}

// pctEncode percent-encodes every byte outside RFC 8187's attr-char.
func pctEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

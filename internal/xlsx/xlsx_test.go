package xlsx

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// The parts of a minimal workbook around its one worksheet.
const (
	rootRels = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	workbook = `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>`
	workbookRels = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`
	sharedStrings = `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>Группа</t></si><si><r><t>И</t></r><r><t>ИН</t></r><rPh><t>x</t></rPh></si></sst>`
	goodSheet     = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>
<row r="3"><c r="A3" t="inlineStr"><is><t>ИС-1</t></is></c><c r="B3"><v>12345678901</v></c><c t="str"><f>X</f><v>Формула</v></c><c t="b"><v>1</v></c></row>
<row><c><v>1.5E+3</v></c><c t="n"/></row>
</sheetData></worksheet>`
)

// zipParts zips the named parts.
func zipParts(t testing.TB, parts map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range parts {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// book is a workbook whose sheet and shared strings are the given XML.
func book(t testing.TB, sheet, shared string) []byte {
	return zipParts(t, map[string]string{
		"_rels/.rels": rootRels, "xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": workbookRels,
		"xl/sharedStrings.xml": shared, "xl/worksheets/sheet1.xml": sheet,
	})
}

type row struct {
	num   int
	cells []Cell
}

// readAll reads every row of the workbook's first sheet.
func readAll(data []byte) ([]row, error) {
	rows, err := OpenFirstSheet(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []row
	for {
		n, cells, err := rows.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, row{n, cells})
	}
}

func TestReadSheet(t *testing.T) {
	t.Parallel()
	got, err := readAll(book(t, goodSheet, sharedStrings))
	if err != nil {
		t.Fatal(err)
	}
	want := []row{
		{1, []Cell{{Text: "Группа"}, {}, {Text: "ИИН"}}},
		{3, []Cell{{Text: "ИС-1"}, {Text: "12345678901", Number: true}, {Text: "Формула"}, {Text: "1"}}},
		{4, []Cell{{Text: "1.5E+3", Number: true}, {}}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i].num != want[i].num || len(got[i].cells) != len(want[i].cells) {
			t.Fatalf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
		for j := range want[i].cells {
			if got[i].cells[j] != want[i].cells[j] {
				t.Errorf("row %d cell %d: got %+v, want %+v", i, j, got[i].cells[j], want[i].cells[j])
			}
		}
	}
}

// Every malformed workbook is an ErrBadWorkbook, whether found on open or
// while streaming the rows.
func TestReadSheetRefused(t *testing.T) {
	t.Parallel()
	sheet := func(rows string) string {
		return `<worksheet><sheetData>` + rows + `</sheetData></worksheet>`
	}
	cases := map[string][]byte{
		"not a zip":           []byte("Группа;ИИН;ФИО"),
		"empty":               {},
		"no workbook":         zipParts(t, map[string]string{"xl/worksheets/sheet1.xml": goodSheet}),
		"no sheets":           zipParts(t, map[string]string{"xl/workbook.xml": `<workbook><sheets/></workbook>`, "xl/_rels/workbook.xml.rels": workbookRels}),
		"sheet part missing":  zipParts(t, map[string]string{"xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": workbookRels}),
		"bad workbook xml":    zipParts(t, map[string]string{"xl/workbook.xml": `<workbook><sheets>`, "xl/_rels/workbook.xml.rels": workbookRels}),
		"bad shared strings":  book(t, goodSheet, `<sst><si><t>x</si>`),
		"shared out of range": book(t, sheet(`<row><c t="s"><v>7</v></c></row>`), sharedStrings),
		"shared negative":     book(t, sheet(`<row><c t="s"><v>-1</v></c></row>`), sharedStrings),
		"shared not a number": book(t, sheet(`<row><c t="s"><v>x</v></c></row>`), sharedStrings),
		"column out of range": book(t, sheet(`<row><c r="XFE1"><v>1</v></c></row>`), sharedStrings),
		"too many cells":      book(t, sheet(`<row>`+strings.Repeat(`<c/>`, maxSheetCols+1)+`</row>`), sharedStrings),
		"truncated sheet":     book(t, `<worksheet><sheetData><row><c><v>1</v>`, sharedStrings),
		"broken sheet xml":    book(t, sheet(`<row><c><v>1</c></row>`), sharedStrings),
	}
	for name, data := range cases {
		if _, err := readAll(data); !errors.Is(err, ErrBadWorkbook) {
			t.Errorf("%s: %v, want ErrBadWorkbook", name, err)
		}
	}
}

func TestColumnIndex(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]int{"A1": 0, "B7": 1, "Z3": 25, "AA10": 26, "XFD1": 16383} {
		if got, ok := columnIndex(ref); !ok || got != want {
			t.Errorf("%s: %d %v", ref, got, ok)
		}
	}
	for _, ref := range []string{"12", "", "a1", "AAAA1"} {
		if _, ok := columnIndex(ref); ok {
			t.Errorf("%q accepted", ref)
		}
	}
}

// FuzzReadSheet feeds arbitrary worksheet and shared-string XML through the
// reader: it must never panic, and every failure must be ErrBadWorkbook.
// The seeds run under plain go test; fuzz with
// go test -fuzz FuzzReadSheet ./internal/xlsx/.
func FuzzReadSheet(f *testing.F) {
	f.Add(goodSheet, sharedStrings)
	f.Add(`<worksheet><sheetData><row r="0"><c r="ZZZZ9" t="s"><v> 1 </v></c></row></sheetData></worksheet>`, `<sst><si><t>a</t></si><si/></sst>`)
	f.Add(`<worksheet><sheetData><row><c t="inlineStr"><is><r><t>x</t></r><rPh/></is></c></row>`, ``)
	f.Add(`<row><c><v>1</v></c></row><row r="-5"/>`, `<si><t>`)
	f.Fuzz(func(t *testing.T, sheet, shared string) {
		data := book(t, sheet, shared)
		if _, err := readAll(data); err != nil && !errors.Is(err, ErrBadWorkbook) {
			t.Fatalf("error not ErrBadWorkbook: %v", err)
		}
	})
}

// FuzzReadWorkbook feeds arbitrary bytes as the whole file.
func FuzzReadWorkbook(f *testing.F) {
	f.Add(book(f, goodSheet, sharedStrings))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := readAll(data); err != nil && !errors.Is(err, ErrBadWorkbook) {
			t.Fatalf("error not ErrBadWorkbook: %v", err)
		}
	})
}

package groups

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"platform/internal/apperr"
)

// rawWorkbook zips a minimal workbook around the sheet rows and shared strings.
func rawWorkbook(t *testing.T, shared []string, rows string) []byte {
	t.Helper()
	var sst strings.Builder
	for _, s := range shared {
		sst.WriteString("<si><t>" + s + "</t></si>")
	}
	parts := map[string]string{
		"_rels/.rels":     `<Relationships><Relationship Id="rId1" Type="x/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": `<workbook xmlns:r="r"><sheets><sheet r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships><Relationship Id="rId1" Type="x/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="x/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
		"xl/sharedStrings.xml":     "<sst>" + sst.String() + "</sst>",
		"xl/worksheets/sheet1.xml": "<worksheet><sheetData>" + rows + "</sheetData></worksheet>",
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range parts {
		w, err := zw.Create(name)
		if err == nil {
			_, err = w.Write([]byte(body))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func parseBytes(b []byte) (roster, error) {
	return parseRoster(bytes.NewReader(b), int64(len(b)), 0, nil)
}

const header = `<row r="1"><c t="inlineStr"><is><t>Группа</t></is></c><c t="inlineStr"><is><t>ИИН</t></is></c><c t="inlineStr"><is><t>ФИО</t></is></c></row>`

// Issue 10.4: a rejected row echoes at most 64 characters of its IIN cell.
func TestRosterEchoTruncated(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("9", 5000)
	b := rawWorkbook(t, []string{long}, header+`<row r="2"><c t="inlineStr"><is><t>Г</t></is></c><c t="s"><v>0</v></c><c t="inlineStr"><is><t>Имя</t></is></c></row>`)
	ros, err := parseBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ros.Errors) != 1 || ros.Errors[0].IIN != strings.Repeat("9", 64)+"…" || ros.Errors[0].Reason != reasonBadIIN {
		t.Fatalf("errors %+v", ros.Errors)
	}
}

// Issue 10.4: shared strings inflated far beyond the upload (a 4 MiB text
// compresses to a few KiB) and endless tokens make the file unreadable
// (400), instead of being held in memory; more than 10,000 data rows are
// refused (400).
func TestRosterMemoryCaps(t *testing.T) {
	t.Parallel()
	row := func(i int) string {
		return fmt.Sprintf(`<row r="%d"><c t="inlineStr"><is><t>Г</t></is></c><c t="s"><v>0</v></c><c t="s"><v>0</v></c></row>`, i)
	}
	var rows strings.Builder
	for i := 2; i < 42; i++ {
		rows.WriteString(row(i))
	}
	bomb := rawWorkbook(t, []string{strings.Repeat("я", 2<<20)}, header+rows.String())
	if len(bomb) > 64<<10 {
		t.Fatalf("test workbook is %d bytes; meant to be small", len(bomb))
	}
	_, err := parseBytes(bomb)
	if e, ok := apperr.As(err); !ok || e.Detail != "Не удалось прочитать Excel-файл" {
		t.Fatalf("bomb: %v", err)
	}
	// Many mid-sized strings that stay under the token cap but not the budget.
	many := make([]string, 64)
	for i := range many {
		many[i] = strings.Repeat(string(rune('а'+i%32)), 200<<10) + fmt.Sprint(i)
	}
	_, err = parseBytes(rawWorkbook(t, many, header+row(2)))
	if e, ok := apperr.As(err); !ok || e.Detail != "Не удалось прочитать Excel-файл" {
		t.Fatalf("shared budget: %v", err)
	}
	rows.Reset()
	for i := 2; i < 2+maxRosterRows+1; i++ {
		fmt.Fprintf(&rows, `<row r="%d"><c t="inlineStr"><is><t>Г</t></is></c><c><v>%d</v></c><c t="inlineStr"><is><t>И</t></is></c></row>`, i, 100000000000+i)
	}
	_, err = parseBytes(rawWorkbook(t, nil, header+rows.String()))
	var e *apperr.Error
	if !errors.As(err, &e) || e.Detail != msgExcelTooMany {
		t.Fatalf("rows: %v", err)
	}
}

package groups

import (
	"archive/zip"
	"bytes"
	"testing"

	"platform/internal/xlsx"
)

func TestCellIIN(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cell xlsx.Cell
		iin  string
		ok   bool
	}{
		{"number", xlsx.Cell{Text: "123456789012", Number: true}, "123456789012", true},
		{"number lost leading zero", xlsx.Cell{Text: "12345678901", Number: true}, "012345678901", true},
		{"number lost two zeros", xlsx.Cell{Text: "1234567890", Number: true}, "001234567890", true},
		{"exponent", xlsx.Cell{Text: "1.2345678901E+11", Number: true}, "123456789010", true},
		{"exponent lower case", xlsx.Cell{Text: "1.23456789012e11", Number: true}, "123456789012", true},
		{"zero fraction", xlsx.Cell{Text: "123456789012.0", Number: true}, "123456789012", true},
		{"fraction", xlsx.Cell{Text: "12345678901.5", Number: true}, "12345678901.5", false},
		{"13 digits", xlsx.Cell{Text: "1234567890123", Number: true}, "1234567890123", false},
		{"huge exponent", xlsx.Cell{Text: "1E+999999", Number: true}, "1E+999999", false},
		{"negative", xlsx.Cell{Text: "-12345678901", Number: true}, "-12345678901", false},
		{"text", xlsx.Cell{Text: " 012345678901 "}, "012345678901", true},
		{"text never padded", xlsx.Cell{Text: "12345678901"}, "12345678901", false},
		{"text exponent", xlsx.Cell{Text: "1.2345678901E+11"}, "1.2345678901E+11", false},
		{"text non-ascii digits", xlsx.Cell{Text: "١٢٣٤٥٦٧٨٩٠١٢"}, "١٢٣٤٥٦٧٨٩٠١٢", false},
		{"empty", xlsx.Cell{}, "", false},
	}
	for _, c := range cases {
		iin, ok := cellIIN(c.cell)
		if iin != c.iin || ok != c.ok {
			t.Errorf("%s: got (%q, %v), want (%q, %v)", c.name, iin, ok, c.iin, c.ok)
		}
	}
}

// parseZip parses a workbook zipped from the given parts.
func parseZip(t *testing.T, parts map[string]string) roster {
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
	ros, err := parseRoster(bytes.NewReader(buf.Bytes()), int64(buf.Len()), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ros
}

// TestParseRosterRawSheet reads a hand-written sheet with inline strings,
// rich-text shared strings, formula results and cells without references,
// the parts excelize's writer never produces.
func TestParseRosterRawSheet(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"[Content_Types].xml": `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
		"_rels/.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Second" sheetId="2" r:id="rId2"/><sheet name="First" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
		"xl/sharedStrings.xml": `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<si><t>Группа</t></si><si><r><t>И</t></r><r><t>ИН</t></r><rPh><t>x</t></rPh></si><si><t>ФИО</t></si></sst>`,
		"xl/worksheets/sheet1.xml": `<worksheet><sheetData><row r="1"><c t="inlineStr"><is><t>wrong sheet</t></is></c></row></sheetData></worksheet>`,
		"xl/worksheets/sheet2.xml": `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="2"><c r="B2" t="s"><v>0</v></c><c t="s"><v>1</v></c><c t="s"><v>2</v></c></row>
<row r="4"><c r="B4" t="inlineStr"><is><t> ИС-1 </t></is></c><c r="C4"><f>A1</f><v>12345678901</v></c><c r="D4" t="str"><f>X</f><v>Формула Имя</v></c></row>
<row r="5"><c r="B5" t="inlineStr"><is><t>ИС-1</t></is></c><c r="C5" t="str"><f>T</f><v>12345678901</v></c><c r="D5" t="inlineStr"><is><t>Б</t></is></c></row>
</sheetData></worksheet>`,
	}
	ros := parseZip(t, files)
	if ros.GroupName != "ИС-1" || len(ros.Rows) != 1 || ros.Rows[0] != (rosterRow{Row: 4, IIN: "012345678901", Name: "Формула Имя"}) {
		t.Fatalf("got %+v", ros)
	}
	if len(ros.Errors) != 1 || ros.Errors[0] != (importError{Row: 5, IIN: "12345678901", Reason: reasonBadIIN}) {
		t.Fatalf("errors %+v", ros.Errors)
	}
}

// TestParseRosterStrict reads a workbook saved as "Strict Open XML", whose
// parts use the ISO namespaces (purl.oclc.org) instead of the transitional ones.
func TestParseRosterStrict(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"_rels/.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": `<workbook xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main" xmlns:r="http://purl.oclc.org/ooxml/officeDocument/relationships">
<sheets><sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://purl.oclc.org/ooxml/officeDocument/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml": `<worksheet xmlns="http://purl.oclc.org/ooxml/spreadsheetml/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>Группа</t></is></c><c r="B1" t="inlineStr"><is><t>ИИН</t></is></c><c r="C1" t="inlineStr"><is><t>ФИО</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>ИС</t></is></c><c r="B2"><v>12345678901</v></c><c r="C2" t="inlineStr"><is><t>Имя</t></is></c></row>
</sheetData></worksheet>`,
	}
	ros := parseZip(t, files)
	if ros.GroupName != "ИС" || len(ros.Rows) != 1 || ros.Rows[0] != (rosterRow{Row: 2, IIN: "012345678901", Name: "Имя"}) {
		t.Fatalf("got %+v", ros)
	}
}

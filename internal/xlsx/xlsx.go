// Package xlsx reads the first worksheet of an .xlsx/.xlsm workbook as a
// stream of rows whose cells keep their type (number or text). It parses
// untrusted uploads, so every part it decompresses is capped against zip
// bombs and a malformed file is an ErrBadWorkbook, never a panic.
package xlsx

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Why not excelize: this package reads the first worksheet of an .xlsx/.xlsm workbook as a stream
// of rows whose cells keep their type. excelize's streaming reader
// (File.Rows) returns only strings, and its GetCellType loads the whole
// worksheet into memory; the import needs both a constant-memory pass over
// large sheets and the number/text distinction of API.md §5 (numeric IINs
// lose their leading zeros, text IINs do not), so the sheet XML is decoded
// here, token by token.

// Decompressed size caps: a 10 MiB upload may still be a zip bomb. What is
// held in memory is bounded by a small multiple of the upload's size: the
// shared strings (kept for the whole read) by sharedBudget, any one XML
// token — a text, a tag — by maxToken (encoding/xml buffers a token whole),
// and a row's own texts by maxRowText; the sheet itself only streams.
const (
	maxPartXML   = 64 << 20  // workbook, relationships, shared strings
	maxSheetXML  = 512 << 20 // the worksheet itself (streamed, never held)
	maxSheetCols = 16384     // Excel's column limit (XFD)
	// maxToken is far above Excel's own limit of 32,767 characters a cell.
	maxToken = 1 << 20
	// maxRowText bounds the inline texts and values of one row.
	maxRowText = 4 << 20
	// sharedOverhead is what each shared string costs beyond its bytes (a
	// string header in the table).
	sharedOverhead = 16
)

// sharedBudget is how many bytes the shared string table may take in
// memory for an upload of size bytes: 4× the upload plus 1 MiB. Real
// workbooks hold each distinct text once, compressed about 3× at most, so
// their tables stay well below; a table inflated from a small zip is refused.
func sharedBudget(size int64) int64 { return 4*size + 1<<20 }

// ErrBadWorkbook marks a file that is not a readable workbook.
var ErrBadWorkbook = errors.New("xlsx: unreadable workbook")

// Cell is one cell: its text (the shared or inline string, or the raw
// stored value of a number) and whether Excel stored it as a number.
type Cell struct {
	Text   string
	Number bool
}

// Rows streams the rows of a worksheet.
type Rows struct {
	dec    *xml.Decoder
	body   io.Closer
	shared []string
	row    int // the last row number returned
}

// OpenFirstSheet opens the workbook's first worksheet (in workbook order).
func OpenFirstSheet(r io.ReaderAt, size int64) (*Rows, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadWorkbook, err)
	}
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		files[strings.TrimPrefix(f.Name, "/")] = f
	}
	wbPath := "xl/workbook.xml"
	if rels, err := readRels(files, "_rels/.rels", ""); err == nil {
		for _, rel := range rels {
			if strings.HasSuffix(rel.Type, "/officeDocument") {
				wbPath = rel.Target
			}
		}
	}
	// r:id is matched in any namespace: transitional files use
	// schemas.openxmlformats.org, "Strict Open XML" ones purl.oclc.org.
	var wb struct {
		Sheets []struct {
			RID string `xml:"id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := readXML(files, wbPath, &wb); err != nil {
		return nil, err
	}
	if len(wb.Sheets) == 0 {
		return nil, fmt.Errorf("%w: no sheets", ErrBadWorkbook)
	}
	rels, err := readRels(files, path.Join(path.Dir(wbPath), "_rels", path.Base(wbPath)+".rels"), path.Dir(wbPath))
	if err != nil {
		return nil, err
	}
	var sheetPath, sharedPath string
	for _, rel := range rels {
		if rel.ID == wb.Sheets[0].RID {
			sheetPath = rel.Target
		}
		if strings.HasSuffix(rel.Type, "/sharedStrings") {
			sharedPath = rel.Target
		}
	}
	var shared []string
	if sharedPath != "" {
		if shared, err = readSharedStrings(files, sharedPath, sharedBudget(size)); err != nil {
			return nil, err
		}
	}
	f := files[sheetPath]
	if f == nil {
		return nil, fmt.Errorf("%w: sheet %q missing", ErrBadWorkbook, sheetPath)
	}
	body, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadWorkbook, err)
	}
	return &Rows{dec: xml.NewDecoder(guard(io.LimitReader(body, maxSheetXML))), body: body, shared: shared}, nil
}

// Close releases the worksheet stream.
func (s *Rows) Close() error { return s.body.Close() }

// relationship is one entry of a .rels part, its target resolved to a zip path.
type relationship struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
}

func readRels(files map[string]*zip.File, name, base string) ([]relationship, error) {
	var rels struct {
		List []relationship `xml:"Relationship"`
	}
	if err := readXML(files, name, &rels); err != nil {
		return nil, err
	}
	for i, rel := range rels.List {
		if strings.HasPrefix(rel.Target, "/") {
			rels.List[i].Target = strings.TrimPrefix(rel.Target, "/")
		} else {
			rels.List[i].Target = path.Join(base, rel.Target)
		}
	}
	return rels.List, nil
}

func readXML(files map[string]*zip.File, name string, v any) error {
	f := files[name]
	if f == nil {
		return fmt.Errorf("%w: %s missing", ErrBadWorkbook, name)
	}
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadWorkbook, err)
	}
	defer rc.Close()
	if err := xml.NewDecoder(guard(io.LimitReader(rc, maxPartXML))).Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadWorkbook, name, err)
	}
	return nil
}

// readSharedStrings reads the shared string table: each <si> is its <t>
// texts (rich-text runs concatenated), phonetic hints (<rPh>) left out.
func readSharedStrings(files map[string]*zip.File, name string, budget int64) ([]string, error) {
	f := files[name]
	if f == nil {
		return nil, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadWorkbook, err)
	}
	defer rc.Close()
	dec := xml.NewDecoder(guard(io.LimitReader(rc, maxPartXML)))
	var out []string
	var used int64
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: shared strings: %v", ErrBadWorkbook, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "si" {
			s, err := stringItem(dec, se)
			if err != nil {
				return nil, err
			}
			if used += int64(len(s)) + sharedOverhead; used > budget {
				return nil, fmt.Errorf("%w: shared strings over %d bytes", ErrBadWorkbook, budget)
			}
			out = append(out, s)
		}
	}
}

// stringItem reads the text of an <si> or <is> element up to its end.
func stringItem(dec *xml.Decoder, start xml.StartElement) (string, error) {
	var b strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", fmt.Errorf("%w: string: %v", ErrBadWorkbook, err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "t":
				var t string
				if err := dec.DecodeElement(&t, &el); err != nil {
					return "", fmt.Errorf("%w: string: %v", ErrBadWorkbook, err)
				}
				if b.Len()+len(t) > maxToken {
					return "", fmt.Errorf("%w: string over %d bytes", ErrBadWorkbook, maxToken)
				}
				b.WriteString(t)
			case "rPh":
				if err := dec.Skip(); err != nil {
					return "", fmt.Errorf("%w: string: %v", ErrBadWorkbook, err)
				}
			}
		case xml.EndElement:
			if el.Name.Local == start.Name.Local {
				return b.String(), nil
			}
		}
	}
}

// Next returns the next row that has cells: its 1-based sheet number and its
// cells indexed by column (0 = A; missing cells are zero). io.EOF at the end.
func (s *Rows) Next() (int, []Cell, error) {
	for {
		tok, err := s.dec.Token()
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		if err != nil {
			return 0, nil, fmt.Errorf("%w: sheet: %v", ErrBadWorkbook, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "row" {
			continue
		}
		s.row++
		if n, err := strconv.Atoi(attr(se, "r")); err == nil && n > 0 {
			s.row = n
		}
		cells, err := s.rowCells()
		if err != nil {
			return 0, nil, err
		}
		return s.row, cells, nil
	}
}

// rowCells reads the <c> elements of the current <row> up to its end.
func (s *Rows) rowCells() ([]Cell, error) {
	var cells []Cell
	col := -1
	text := 0 // bytes of this row's own texts (shared strings are referenced, not copied)
	for {
		tok, err := s.dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: row %d: %v", ErrBadWorkbook, s.row, err)
		}
		switch el := tok.(type) {
		case xml.EndElement:
			if el.Name.Local == "row" {
				return cells, nil
			}
		case xml.StartElement:
			if el.Name.Local != "c" {
				continue
			}
			col++
			if c, ok := columnIndex(attr(el, "r")); ok {
				col = c
			}
			if col >= maxSheetCols {
				return nil, fmt.Errorf("%w: row %d: column out of range", ErrBadWorkbook, s.row)
			}
			c, err := s.cell(el)
			if err != nil {
				return nil, err
			}
			if text += len(c.Text); text > maxRowText {
				return nil, fmt.Errorf("%w: row %d: over %d bytes of text", ErrBadWorkbook, s.row, maxRowText)
			}
			for len(cells) <= col {
				cells = append(cells, Cell{})
			}
			cells[col] = c
		}
	}
}

// cell reads one <c>: shared strings ("s"), inline strings, formula strings
// ("str"), booleans, errors and dates are text; a cell without a type (or
// "n") is a number, formulas giving their cached value.
func (s *Rows) cell(start xml.StartElement) (Cell, error) {
	typ := attr(start, "t")
	var v, inline string
	var hasInline bool
	for {
		tok, err := s.dec.Token()
		if err != nil {
			return Cell{}, fmt.Errorf("%w: row %d: %v", ErrBadWorkbook, s.row, err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "v":
				if err := s.dec.DecodeElement(&v, &el); err != nil {
					return Cell{}, fmt.Errorf("%w: row %d: %v", ErrBadWorkbook, s.row, err)
				}
			case "is":
				if inline, err = stringItem(s.dec, el); err != nil {
					return Cell{}, err
				}
				hasInline = true
			default:
				if err := s.dec.Skip(); err != nil {
					return Cell{}, fmt.Errorf("%w: row %d: %v", ErrBadWorkbook, s.row, err)
				}
			}
		case xml.EndElement:
			if el.Name.Local != "c" {
				continue
			}
			switch typ {
			case "s":
				i, err := strconv.Atoi(strings.TrimSpace(v))
				if v == "" {
					return Cell{}, nil
				}
				if err != nil || i < 0 || i >= len(s.shared) {
					return Cell{}, fmt.Errorf("%w: row %d: bad shared string %q", ErrBadWorkbook, s.row, v)
				}
				return Cell{Text: s.shared[i]}, nil
			case "inlineStr":
				if hasInline {
					return Cell{Text: inline}, nil
				}
				return Cell{Text: v}, nil
			case "", "n":
				return Cell{Text: v, Number: v != ""}, nil
			default:
				return Cell{Text: v}, nil
			}
		}
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// columnIndex is the 0-based column of a cell reference ("B7" → 1).
func columnIndex(ref string) (int, bool) {
	col := 0
	n := 0
	for _, r := range ref {
		if r < 'A' || r > 'Z' {
			break
		}
		col = col*26 + int(r-'A'+1)
		n++
		if n > 3 {
			return 0, false
		}
	}
	if n == 0 {
		return 0, false
	}
	return col - 1, true
}

// tokenGuard fails a read once more than maxToken bytes pass without a "<"
// or ">": encoding/xml holds a whole text or tag in memory before it
// returns it, so one endless text node could otherwise take all memory.
type tokenGuard struct {
	r   io.Reader
	run int
}

func guard(r io.Reader) io.Reader { return &tokenGuard{r: r} }

func (g *tokenGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for _, c := range p[:n] {
		if c == '<' || c == '>' {
			g.run = 0
			continue
		}
		if g.run++; g.run > maxToken {
			return 0, fmt.Errorf("%w: XML token over %d bytes", ErrBadWorkbook, maxToken)
		}
	}
	return n, err
}

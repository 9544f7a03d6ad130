package grades

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"platform/internal/jsonw"
	"platform/internal/timefmt"
	"platform/internal/web"
)

// AppendForUser appends the page of the user's grade summary to dst as the
// JSON array appendGrades writes for the rows as scanGrade reads them, encoding every row
// straight from its wire values: no Grade, no string per column, nothing
// for the garbage collector per row. The summary is a hot read (README,
// "Hot reads"), and decoding rows into structs only to encode them again
// was a third of its CPU.
//
// It reads the formats pgx asks for in its default mode (int4, float8 and
// timestamptz binary; text-like columns, whose bytes are the text in either
// format). When a column arrives otherwise (a simple-protocol connection, a
// changed schema) it scans into Grades instead: same answer, slower.
func (repo *Repo) AppendForUser(ctx context.Context, dst []byte, userID int32, page web.Page) ([]byte, error) {
	rows, err := repo.q.Query(ctx, summarySQL, userID)
	if err != nil {
		return nil, fmt.Errorf("grades: summary: %w", err)
	}
	defer rows.Close()
	if !rawReadable(rows.FieldDescriptions()) {
		gs, err := pgx.CollectRows(rows, scanGrade)
		if err != nil {
			return nil, fmt.Errorf("grades: summary: %w", err)
		}
		out, ok := appendGrades(dst, web.Slice(page, gs))
		if !ok {
			return nil, fmt.Errorf("grades: summary: %w", jsonw.ErrUnsupported)
		}
		return out, nil
	}
	dst = append(dst, '[')
	n := 0
	for i := 0; rows.Next(); i++ {
		in, done := page.Window(i)
		if done {
			break // Close drains the rest
		}
		if !in {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		if dst, err = appendRawGrade(dst, rows.RawValues()); err != nil {
			return nil, fmt.Errorf("grades: summary: row %d: %w", i, err)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("grades: summary: %w", err)
	}
	return append(dst, ']'), nil
}

// The summary's columns, in summarySQL's order, as the raw encoder reads them.
type rawKind uint8

const (
	rawInt4 rawKind = iota
	rawText
	rawFloat8
	rawTimestamptz
	rawBool
)

var summaryColumns = [...]struct {
	key  string // the JSON member, with its separator
	kind rawKind
}{
	{`{"submission_id":`, rawInt4},
	{`,"lesson_id":`, rawInt4},
	{`,"lesson_title":`, rawText},
	{`,"lesson_type":`, rawText},
	{`,"subject_title":`, rawText},
	{`,"module_title":`, rawText},
	{`,"grade":`, rawFloat8},
	{`,"submitted_at":`, rawTimestamptz},
	{`,"source":`, rawText},
	{`,"due_at":`, rawTimestamptz},
	{`,"late":`, rawBool},
}

// rawReadable reports whether every column comes as appendRawGrade reads it.
func rawReadable(fields []pgconn.FieldDescription) bool {
	if len(fields) != len(summaryColumns) {
		return false
	}
	for i, f := range fields {
		binaryOf := func(oid uint32) bool { return f.DataTypeOID == oid && f.Format == pgx.BinaryFormatCode }
		var ok bool
		switch summaryColumns[i].kind {
		case rawInt4:
			ok = binaryOf(pgtype.Int4OID)
		case rawFloat8:
			ok = binaryOf(pgtype.Float8OID)
		case rawTimestamptz:
			ok = binaryOf(pgtype.TimestamptzOID)
		case rawBool:
			ok = binaryOf(pgtype.BoolOID)
		case rawText:
			ok = f.Format == pgx.TextFormatCode || f.DataTypeOID == pgtype.TextOID ||
				f.DataTypeOID == pgtype.VarcharOID || f.DataTypeOID == pgtype.BPCharOID
		}
		if !ok {
			return false
		}
	}
	return true
}

// pgEpochMicros is 2000-01-01 UTC, PostgreSQL's timestamp epoch, in Unix µs.
const pgEpochMicros = 946_684_800 * 1_000_000

var errNull = errors.New("NULL in a NOT NULL column of the summary")

// appendRawGrade appends one row's object. A NULL where Grade has no
// pointer is an error, as scanning it into Grade is.
func appendRawGrade(dst []byte, vals [][]byte) ([]byte, error) {
	for i, col := range summaryColumns {
		dst = append(dst, col.key...)
		v := vals[i]
		switch col.kind {
		case rawInt4:
			if len(v) != 4 {
				return nil, errNull
			}
			dst = jsonw.Int(dst, int32(binary.BigEndian.Uint32(v)))
		case rawText:
			if v == nil {
				return nil, errNull
			}
			// A view, not a copy: v lives until the next row, the call
			// only reads it.
			dst = jsonw.String(dst, unsafe.String(unsafe.SliceData(v), len(v)))
		case rawFloat8:
			if v == nil {
				dst = append(dst, "null"...)
				break
			}
			var ok bool
			if len(v) != 8 {
				return nil, fmt.Errorf("float8 of %d bytes", len(v))
			}
			if dst, ok = jsonw.Float(dst, math.Float64frombits(binary.BigEndian.Uint64(v))); !ok {
				return nil, jsonw.ErrUnsupported
			}
		case rawTimestamptz:
			if v == nil {
				dst = append(dst, "null"...)
				break
			}
			if len(v) != 8 {
				return nil, fmt.Errorf("timestamptz of %d bytes", len(v))
			}
			us := int64(binary.BigEndian.Uint64(v))
			if us == math.MaxInt64 || us == math.MinInt64 {
				return nil, errors.New("timestamp is infinite") // as scanning into a time.Time refuses it
			}
			dst = jsonw.Time(dst, timefmt.Time{Time: time.UnixMicro(us + pgEpochMicros)})
		case rawBool:
			switch {
			case v == nil:
				dst = append(dst, "null"...)
			case len(v) != 1:
				return nil, fmt.Errorf("bool of %d bytes", len(v))
			case v[0] != 0:
				dst = append(dst, "true"...)
			default:
				dst = append(dst, "false"...)
			}
		}
	}
	return append(dst, '}'), nil
}

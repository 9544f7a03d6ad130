package catalog

import (
	"platform/internal/jsonw"
)

// The AppendJSON methods write the §0.11 shapes without reflection, byte
// for byte as web.JSON (encoding/json) writes the structs: same field order
// and names, null for nil pointers and nil slices. encode_test.go compares
// the two on every shape. They are deliberately not MarshalJSON: an
// embedded MarshalJSON would be promoted to the embedding structs (access's
// lessonFull embeds Lesson) and silently drop their other fields.

// AppendJSON appends r as the "Result" shape; ok is false for a score
// JSON cannot carry (NaN, ±Inf), which encoding/json refuses too.
func (r *Result) AppendJSON(dst []byte) (out []byte, ok bool) {
	dst = append(dst, `{"id":`...)
	dst = jsonw.Int(dst, r.ID)
	dst = append(dst, `,"user_id":`...)
	dst = jsonw.Int(dst, r.UserID)
	dst = append(dst, `,"lesson_id":`...)
	dst = jsonw.IntPtr(dst, r.LessonID)
	dst = append(dst, `,"test_id":`...)
	dst = jsonw.IntPtr(dst, r.TestID)
	dst = append(dst, `,"score":`...)
	if dst, ok = jsonw.Float(dst, r.Score); !ok {
		return dst, false
	}
	dst = append(dst, `,"submitted_at":`...)
	dst = jsonw.TimePtr(dst, r.SubmittedAt)
	return append(dst, '}'), true
}

// AppendJSON appends l as the "LessonResponse" shape.
func (l *Lesson) AppendJSON(dst []byte) (out []byte, ok bool) {
	dst = l.appendHead(dst)
	if l.Result == nil {
		return l.appendTail(append(dst, "null"...)), true
	}
	if dst, ok = l.Result.AppendJSON(dst); !ok {
		return dst, false
	}
	return l.appendTail(dst), true
}

// appendTail appends the members after "result" and the closing brace.
func (l *Lesson) appendTail(dst []byte) []byte {
	dst = append(dst, `,"due_at":`...)
	dst = jsonw.TimePtr(dst, l.DueAt)
	dst = append(dst, `,"cutoff_at":`...)
	dst = jsonw.TimePtr(dst, l.CutoffAt)
	return append(dst, '}')
}

// appendHead appends l up to and including `"result":`, the part that is
// the same for every viewer.
func (l *Lesson) appendHead(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonw.Int(dst, l.ID)
	dst = append(dst, `,"title":`...)
	dst = jsonw.String(dst, l.Title)
	dst = append(dst, `,"description":`...)
	dst = jsonw.StringPtr(dst, l.Description)
	dst = append(dst, `,"type":`...)
	dst = jsonw.String(dst, l.Type)
	dst = append(dst, `,"content_url":`...)
	dst = jsonw.String(dst, l.ContentURL)
	dst = append(dst, `,"subject_id":`...)
	dst = jsonw.Int(dst, l.SubjectID)
	dst = append(dst, `,"created_at":`...)
	dst = jsonw.TimePtr(dst, l.CreatedAt)
	return append(dst, `,"result":`...)
}

// AppendJSON appends s as the "SubjectResponse" shape.
func (s *Subject) AppendJSON(dst []byte) (out []byte, ok bool) {
	if dst, ok = appendList(s.appendHead(dst), s.Lessons, (*Lesson).AppendJSON); !ok {
		return dst, false
	}
	return append(dst, '}'), true
}

// appendHead appends s up to and including `"lessons":`.
func (s *Subject) appendHead(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonw.Int(dst, s.ID)
	dst = append(dst, `,"title":`...)
	dst = jsonw.String(dst, s.Title)
	dst = append(dst, `,"module_id":`...)
	dst = jsonw.Int(dst, s.ModuleID)
	dst = append(dst, `,"teacher_id":`...)
	dst = jsonw.IntPtr(dst, s.TeacherID)
	return append(dst, `,"lessons":`...)
}

// appendHead appends b's fields without the closing brace.
func (b *ModuleBrief) appendHead(dst []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonw.Int(dst, b.ID)
	dst = append(dst, `,"title":`...)
	dst = jsonw.String(dst, b.Title)
	dst = append(dst, `,"course":`...)
	dst = jsonw.StringPtr(dst, b.Course)
	dst = append(dst, `,"description":`...)
	dst = jsonw.StringPtr(dst, b.Description)
	dst = append(dst, `,"created_at":`...)
	return jsonw.TimePtr(dst, b.CreatedAt)
}

// AppendJSON appends b as the "ModuleBrief" shape.
func (b *ModuleBrief) AppendJSON(dst []byte) []byte {
	return append(b.appendHead(dst), '}')
}

// AppendJSON appends m as the "ModuleResponse" shape.
func (m *Module) AppendJSON(dst []byte) (out []byte, ok bool) {
	dst = append(m.appendHead(dst), `,"subjects":`...)
	if dst, ok = appendList(dst, m.Subjects, (*Subject).AppendJSON); !ok {
		return dst, false
	}
	return append(dst, '}'), true
}

// AppendModules appends ms as a JSON array (null when nil, as encoding/json).
func AppendModules(dst []byte, ms []Module) (out []byte, ok bool) {
	return appendList(dst, ms, (*Module).AppendJSON)
}

// AppendSubjects appends ss as a JSON array (null when nil).
func AppendSubjects(dst []byte, ss []Subject) (out []byte, ok bool) {
	return appendList(dst, ss, (*Subject).AppendJSON)
}

// AppendLessons appends ls as a JSON array (null when nil).
func AppendLessons(dst []byte, ls []Lesson) (out []byte, ok bool) {
	return appendList(dst, ls, (*Lesson).AppendJSON)
}

// appendList appends items as a JSON array with each one's encoder.
func appendList[T any](dst []byte, items []T, enc func(*T, []byte) ([]byte, bool)) (out []byte, ok bool) {
	if items == nil {
		return append(dst, "null"...), true
	}
	dst = append(dst, '[')
	for i := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, ok = enc(&items[i], dst); !ok {
			return dst, false
		}
	}
	return append(dst, ']'), true
}

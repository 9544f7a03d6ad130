package grades

import (
	"platform/internal/jsonw"
	"platform/internal/timefmt"
)

// Grade is one entry of the student's grade summary (API.md §8): a graded
// (or not yet graded) homework submission or a test result.
type Grade struct {
	// SubmissionID is the submission id for homework, the result id for tests.
	SubmissionID int32  `json:"submission_id" db:"submission_id"`
	LessonID     int32  `json:"lesson_id" db:"lesson_id"`
	LessonTitle  string `json:"lesson_title" db:"lesson_title"`
	// LessonType is the lesson's type for homework and "тест" for tests.
	LessonType   string `json:"lesson_type" db:"lesson_type"`
	SubjectTitle string `json:"subject_title" db:"subject_title"`
	ModuleTitle  string `json:"module_title" db:"module_title"`
	// Grade is the homework grade (an integer or null) or the test score,
	// which may have decimals (66.67); both fit a float64 exactly and an
	// integral float64 is written without a fraction.
	Grade       *float64      `json:"grade" db:"grade"`
	SubmittedAt *timefmt.Time `json:"submitted_at" db:"submitted_at"`
	// Source is "submission" or "test".
	Source string `json:"source" db:"source"`
	// Beyond the original (issue 24): the lesson's deadline as it applies
	// to the student, and the submission's late flag (null for tests).
	DueAt *timefmt.Time `json:"due_at" db:"due_at"`
	Late  *bool         `json:"late" db:"late"`
}

// appendBoolPtr appends b as true, false or null.
func appendBoolPtr(dst []byte, b *bool) []byte {
	switch {
	case b == nil:
		return append(dst, "null"...)
	case *b:
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// appendGrades appends gs as web.JSON would write them (null when nil),
// without reflection; ok is false for a grade JSON cannot carry (NaN).
func appendGrades(dst []byte, gs []Grade) (out []byte, ok bool) {
	if gs == nil {
		return append(dst, "null"...), true
	}
	dst = append(dst, '[')
	for i := range gs {
		g := &gs[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"submission_id":`...)
		dst = jsonw.Int(dst, g.SubmissionID)
		dst = append(dst, `,"lesson_id":`...)
		dst = jsonw.Int(dst, g.LessonID)
		dst = append(dst, `,"lesson_title":`...)
		dst = jsonw.String(dst, g.LessonTitle)
		dst = append(dst, `,"lesson_type":`...)
		dst = jsonw.String(dst, g.LessonType)
		dst = append(dst, `,"subject_title":`...)
		dst = jsonw.String(dst, g.SubjectTitle)
		dst = append(dst, `,"module_title":`...)
		dst = jsonw.String(dst, g.ModuleTitle)
		dst = append(dst, `,"grade":`...)
		if g.Grade == nil {
			dst = append(dst, "null"...)
		} else if dst, ok = jsonw.Float(dst, *g.Grade); !ok {
			return dst, false
		}
		dst = append(dst, `,"submitted_at":`...)
		dst = jsonw.TimePtr(dst, g.SubmittedAt)
		dst = append(dst, `,"source":`...)
		dst = jsonw.String(dst, g.Source)
		dst = append(dst, `,"due_at":`...)
		dst = jsonw.TimePtr(dst, g.DueAt)
		dst = append(dst, `,"late":`...)
		dst = appendBoolPtr(dst, g.Late)
		dst = append(dst, '}')
	}
	return append(dst, ']'), true
}

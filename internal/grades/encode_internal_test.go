package grades

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"platform/internal/timefmt"
)

// appendGrades writes exactly what web.JSON (encoding/json without HTML
// escaping) writes for the same rows.
func TestAppendGradesMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	g4, frac := 4.0, 66.67
	yes, no := true, false
	at := &timefmt.Time{Time: time.Date(2025, 6, 4, 8, 30, 0, 5000, time.UTC)}
	for _, gs := range [][]Grade{nil, {}, {
		{SubmissionID: 1, LessonID: 2, LessonTitle: "Урок <1> & \"\\\u2028\xff\x1f", LessonType: "pdf", SubjectTitle: "С",
			ModuleTitle: "М", Grade: &g4, SubmittedAt: at, Source: "submission", DueAt: at, Late: &yes},
		{SubmissionID: 3, LessonID: 2, LessonTitle: "", LessonType: "тест", Grade: &frac, Source: "test", Late: &no},
		{SubmissionID: 4, LessonID: 5, Source: "submission"},
	}} {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(gs); err != nil {
			t.Fatal(err)
		}
		want := string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		if got, ok := appendGrades(nil, gs); !ok || string(got) != want {
			t.Errorf("got %s (ok %v)\nwant %s", got, ok, want)
		}
	}
	nan := math.NaN()
	if _, ok := appendGrades(nil, []Grade{{Grade: &nan}}); ok {
		t.Error("NaN grade encoded")
	}
}

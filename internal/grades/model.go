package grades

import "platform/internal/timefmt"

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

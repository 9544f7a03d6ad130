package lessons

import (
	"platform/internal/timefmt"
)

// SubmissionFile is one file of a homework submission.
type SubmissionFile struct {
	ID           int32  `json:"id" db:"id"`
	SubmissionID int32  `json:"-" db:"submission_id"`
	FilePath     string `json:"file_path" db:"file_path"`
}

// Submission is the "SubmissionOut" shape (API.md §0.11). StudentName is
// null in the student's own list and the student's full name in the
// teacher's list.
type Submission struct {
	ID          int32            `json:"id" db:"id"`
	LessonID    *int32           `json:"lesson_id" db:"lesson_id"`
	UserID      *int32           `json:"user_id" db:"user_id"`
	Files       []SubmissionFile `json:"files" db:"-"`
	Comment     *string          `json:"comment" db:"comment"`
	Grade       *int32           `json:"grade" db:"grade"`
	StudentName *string          `json:"student_name" db:"student_name"`
	SubmittedAt *timefmt.Time    `json:"submitted_at" db:"submitted_at"`
	// Beyond the original (issue 24): the student's effective deadline
	// (their extension's or the lesson's), and whether the submission came
	// after it, by how many whole seconds (null when on time).
	DueAt       *timefmt.Time `json:"due_at" db:"due_at"`
	CutoffAt    *timefmt.Time `json:"cutoff_at" db:"cutoff_at"`
	Late        bool          `json:"late" db:"late"`
	LateSeconds *int32        `json:"late_seconds" db:"late_seconds"`
}

// TestResult is a row of GET /lessons/{id}/submissions/tests.
type TestResult struct {
	ID          int32         `json:"id" db:"id"`
	Score       float64       `json:"score" db:"score"`
	SubmittedAt *timefmt.Time `json:"submitted_at" db:"submitted_at"`
	StudentName string        `json:"student_name" db:"student_name"`
	UserID      int32         `json:"user_id" db:"user_id"`
	TestID      *int32        `json:"test_id" db:"test_id"`
	LessonID    *int32        `json:"lesson_id" db:"lesson_id"`
}

// newLesson is the validated body of POST /lessons/add/subjects/{id}.
type newLesson struct {
	Title       string
	Type        string
	ContentURL  string
	Description *string
	TestID      *int32
	Deadlines   deadlines // issue 24, optional
}

// testLessonType marks a test lesson; only then is test_id honoured (API.md §8).
const testLessonType = "Тест"

// uploaded is the response of the upload endpoints that report a count.
type uploaded struct {
	Detail string `json:"detail"`
	Count  int    `json:"count"`
}

// fileURL is the response of POST /lessons/upload/lesson-file.
type fileURL struct {
	URL string `json:"url"`
}

// Package catalog is the read model of the course tree — modules, their
// subjects, their lessons — in the response shapes of API.md §0.11, shared
// by every endpoint that returns part of the tree (/admin/modules, /access,
// /lessons). Loaders fetch whole trees in a fixed number of queries.
package catalog

import (
	"platform/internal/timefmt"
)

// Result is a test result (the "Result" shape).
type Result struct {
	ID          int32         `json:"id" db:"id"`
	UserID      int32         `json:"user_id" db:"user_id"`
	LessonID    *int32        `json:"lesson_id" db:"lesson_id"`
	TestID      *int32        `json:"test_id" db:"test_id"`
	Score       float64       `json:"score" db:"score"`
	SubmittedAt *timefmt.Time `json:"submitted_at" db:"submitted_at"`
}

// Lesson is the "LessonResponse" shape; Result is the caller's result or null.
type Lesson struct {
	ID          int32         `json:"id" db:"id"`
	Title       string        `json:"title" db:"title"`
	Description *string       `json:"description" db:"description"`
	Type        string        `json:"type" db:"type"`
	ContentURL  string        `json:"content_url" db:"content_url"`
	SubjectID   int32         `json:"subject_id" db:"subject_id"`
	CreatedAt   *timefmt.Time `json:"created_at" db:"created_at"`
	Result      *Result       `json:"result" db:"-"`
	// DueAt and CutoffAt are the homework deadlines (issue 24), null when
	// the lesson has none; GET /lessons/{id} shows the caller's own (with
	// their extension), every other lesson list the lesson's.
	DueAt    *timefmt.Time `json:"due_at" db:"due_at"`
	CutoffAt *timefmt.Time `json:"cutoff_at" db:"cutoff_at"`
}

// LessonShort is the "LessonShort" shape.
type LessonShort struct {
	ID         int32  `json:"id" db:"id"`
	Title      string `json:"title" db:"title"`
	Type       string `json:"type" db:"type"`
	ContentURL string `json:"content_url" db:"content_url"`
}

// Subject is the "SubjectResponse" shape.
type Subject struct {
	ID        int32    `json:"id" db:"id"`
	Title     string   `json:"title" db:"title"`
	ModuleID  int32    `json:"module_id" db:"module_id"`
	TeacherID *int32   `json:"teacher_id" db:"teacher_id"`
	Lessons   []Lesson `json:"lessons" db:"-"`
}

// Group is the "Group" shape (a study group).
type Group struct {
	ID          int32   `json:"id" db:"id"`
	Name        string  `json:"name" db:"name"`
	Description *string `json:"description" db:"description"`
}

// ModuleBrief is the "ModuleBrief" shape.
type ModuleBrief struct {
	ID          int32         `json:"id" db:"id"`
	Title       string        `json:"title" db:"title"`
	Course      *string       `json:"course" db:"course"`
	Description *string       `json:"description" db:"description"`
	CreatedAt   *timefmt.Time `json:"created_at" db:"created_at"`
}

// Module is the "ModuleResponse" shape.
type Module struct {
	ModuleBrief
	Subjects []Subject `json:"subjects"`
}

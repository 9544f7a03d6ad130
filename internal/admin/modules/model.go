package modules

import (
	"platform/internal/auth"
	"platform/internal/catalog"
)

// subjectLessons is a subject in the module lists: the SubjectResponse
// fields without its full lessons, which are LessonShort here.
type subjectLessons struct {
	ID        int32                 `json:"id" db:"id"`
	Title     string                `json:"title" db:"title"`
	ModuleID  int32                 `json:"module_id" db:"module_id"`
	TeacherID *int32                `json:"teacher_id" db:"teacher_id"`
	Lessons   []catalog.LessonShort `json:"lessons" db:"-"`
}

// subjectTeacher is a subject of GET /admin/modules/with-teachers.
type subjectTeacher struct {
	subjectLessons
	Teacher *auth.User `json:"teacher"`
}

// moduleSubjects is a module of GET /admin/modules/.
type moduleSubjects struct {
	catalog.ModuleBrief
	Subjects []subjectLessons `json:"subjects"`
}

// moduleTeachers is a module of GET /admin/modules/with-teachers.
type moduleTeachers struct {
	catalog.ModuleBrief
	Subjects []subjectTeacher `json:"subjects"`
}

// moduleUpdate is a PUT body: each Set* says whether the key was present.
type moduleUpdate struct {
	SetTitle, SetCourse, SetDesc bool
	Title                        string
	Course, Desc                 *string
}

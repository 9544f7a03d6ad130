package admin

import (
	"platform/internal/auth"
	"platform/internal/catalog"
)

// userOut is the "UserOut" shape of API.md §0.11.
type userOut struct {
	ID       int32  `json:"id" db:"id"`
	IIN      string `json:"iin" db:"iin"`
	FullName string `json:"full_name" db:"full_name"`
}

// userEnvelope is the {"user": UserBlock} answer of the /user endpoints.
type userEnvelope struct {
	User auth.UserBlock `json:"user"`
}

// message is the {"message": "…"} success body.
type message struct {
	Message string `json:"message"`
}

// importError reports one skipped row of an Excel import (Excel's 1-based row number).
type importError struct {
	Row    int    `json:"row"`
	IIN    string `json:"iin"`
	Reason string `json:"reason"`
}

// importResult is the answer of POST /admin/groups/upload-excel.
type importResult struct {
	Message   string        `json:"message"`
	GroupID   int32         `json:"group_id"`
	GroupName string        `json:"group_name"`
	Created   int           `json:"created"`
	Existing  int           `json:"existing"`
	Skipped   int           `json:"skipped"`
	Errors    []importError `json:"errors"`
}

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

// lessonShortRow is a LessonShort with the subject it belongs to, for grouping.
type lessonShortRow struct {
	catalog.LessonShort
	SubjectID int32 `db:"subject_id"`
}

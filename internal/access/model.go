package access

import "platform/internal/catalog"

// overview is the body of GET /access/access-overview.
type overview struct {
	Modules []overviewModule `json:"modules"`
}

// overviewModule is one module of the overview with its module_group links.
type overviewModule struct {
	ModuleID    int32             `json:"module_id"`
	ModuleTitle string            `json:"module_title"`
	Groups      []groupName       `json:"groups"`
	Subjects    []overviewSubject `json:"subjects"`
}

// overviewSubject is one subject of the overview with its subject_group links.
type overviewSubject struct {
	SubjectID int32       `json:"subject_id"`
	Title     string      `json:"title"`
	Teacher   *teacherRef `json:"teacher"`
	Groups    []groupName `json:"groups"`
}

// teacherRef names a subject's teacher in the overview.
type teacherRef struct {
	ID       int32  `json:"id"`
	FullName string `json:"full_name"`
}

// groupName is a group as the overview lists it.
type groupName struct {
	ID   int32  `json:"id" db:"id"`
	Name string `json:"name" db:"name"`
}

// groupLink is a group linked to an owner (a module or a subject).
type groupLink struct {
	OwnerID int32  `db:"owner_id"`
	ID      int32  `db:"id"`
	Name    string `db:"name"`
}

// overviewSubjectRow is a subject with its teacher, as the overview query reads it.
type overviewSubjectRow struct {
	ID          int32   `db:"id"`
	Title       string  `db:"title"`
	ModuleID    int32   `db:"module_id"`
	TeacherID   *int32  `db:"teacher_id"`
	TeacherName *string `db:"teacher_name"`
}

// moduleTitle is a module as the overview query reads it.
type moduleTitle struct {
	ID    int32  `db:"id"`
	Title string `db:"title"`
}

// groupRef is the "GroupRef" shape: title repeats the group's name (§7).
type groupRef struct {
	ID          int32   `json:"id"`
	Title       string  `json:"title"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

// subjectGroups is the "SubjectGroups" shape.
type subjectGroups struct {
	ID        int32           `json:"id" db:"id"`
	Title     string          `json:"title" db:"title"`
	ModuleID  int32           `json:"module_id" db:"module_id"`
	TeacherID *int32          `json:"teacher_id" db:"teacher_id"`
	Groups    []catalog.Group `json:"groups" db:"-"`
}

// lessonFull is the body of GET /access/lessons/{lesson_id}: the lesson
// (with the caller's result) and its subject tree (results null).
type lessonFull struct {
	catalog.Lesson
	Subject catalog.Subject `json:"subject"`
}

// userRole is what teacher-to-subject needs to know about a user.
type userRole struct {
	ID   int32  `db:"id"`
	Role string `db:"role"`
}

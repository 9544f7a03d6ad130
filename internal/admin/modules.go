package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/catalog"
	"platform/internal/policy"
	"platform/internal/purge"
	"platform/internal/web"
)

// Texts of /admin/modules (API.md §6).
const (
	msgModuleNotFound  = "Модуль не найден"
	msgModuleNoAccess  = "Модуль не найден или доступ запрещён"
	msgModuleDeleted   = "Модуль удалён"
	msgSubjectNotFound = "Предмет не найден"
	msgSubjectDeleted  = "Предмет удалён"
	msgSubjectExists   = "Данная дисциплина уже существует в этом модуле"
)

// Column sizes of modules and subjects.
const (
	titleMax  = 100
	courseMax = 10
)

// createModule is POST /admin/modules/.
func (h *Handler) createModule(w http.ResponseWriter, r *http.Request) error {
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	title := strMax(o.Field("title"), titleMax)
	course := optStrMax(o.Field("course"), courseMax)
	desc, _ := o.Field("description").OptStr()
	if err := b.Err(); err != nil {
		return err
	}
	m, err := h.repo.insertModule(r.Context(), title, course, desc)
	if err != nil {
		return err
	}
	return web.OK(w, m)
}

// strMax reads a required string of at most n characters.
func strMax(v web.Value, n int) string {
	s, ok := v.Str()
	if ok {
		v.MaxLen(s, n)
	}
	return s
}

// optStrMax reads an optional string of at most n characters.
func optStrMax(v web.Value, n int) *string {
	s, ok := v.OptStr()
	if ok && s != nil {
		v.MaxLen(*s, n)
	}
	return s
}

// listModules is GET /admin/modules/: three queries (modules, subjects, lessons).
func (h *Handler) listModules(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	modules, subjects, err := h.repo.moduleTree(ctx)
	if err != nil {
		return err
	}
	out := make([]moduleSubjects, len(modules))
	byModule := groupBy(subjects, func(s subjectLessons) int32 { return s.ModuleID })
	for i, m := range modules {
		out[i] = moduleSubjects{ModuleBrief: m, Subjects: nonNil(byModule[m.ID])}
	}
	return web.OK(w, out)
}

// listModulesWithTeachers is GET /admin/modules/with-teachers: four queries
// (modules, subjects, lessons, teachers).
func (h *Handler) listModulesWithTeachers(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	modules, subjects, err := h.repo.moduleTree(ctx)
	if err != nil {
		return err
	}
	teachers, err := h.repo.subjectTeachers(ctx)
	if err != nil {
		return err
	}
	byID := make(map[int32]*auth.User, len(teachers))
	for i := range teachers {
		byID[teachers[i].ID] = &teachers[i]
	}
	withTeacher := make([]subjectTeacher, len(subjects))
	for i, s := range subjects {
		withTeacher[i] = subjectTeacher{subjectLessons: s}
		if s.TeacherID != nil {
			withTeacher[i].Teacher = byID[*s.TeacherID]
		}
	}
	byModule := groupBy(withTeacher, func(s subjectTeacher) int32 { return s.ModuleID })
	out := make([]moduleTeachers, len(modules))
	for i, m := range modules {
		out[i] = moduleTeachers{ModuleBrief: m, Subjects: nonNil(byModule[m.ID])}
	}
	return web.OK(w, out)
}

// getModule is GET /admin/modules/{module_id}: any user; a student must be
// able to read the module (§0.6) and sees only the visible subjects.
func (h *Handler) getModule(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "module_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := h.repo.moduleExists(ctx, id, ""); err != nil {
		return err
	}
	me := auth.MustUser(ctx)
	ok, err := policy.CanReadModule(ctx, h.pool, me, id)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFound(msgModuleNoAccess)
	}
	modules, err := catalog.Modules(ctx, h.pool, catalog.Filter{ModuleIDs: []int32{id}, Viewer: &me})
	if err != nil {
		return err
	}
	if len(modules) == 0 { // deleted meanwhile
		return apperr.NotFound(msgModuleNotFound)
	}
	return web.OK(w, modules[0])
}

// updateModule is PUT /admin/modules/{module_id}: only the keys present
// change; an explicit null clears course or description, never the title.
func (h *Handler) updateModule(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "module_id")
	if err != nil {
		return err
	}
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	u := moduleUpdate{SetTitle: o.Has("title"), SetCourse: o.Has("course"), SetDesc: o.Has("description")}
	if u.SetTitle {
		u.Title = strMax(o.Field("title"), titleMax)
	}
	u.Course = optStrMax(o.Field("course"), courseMax)
	u.Desc, _ = o.Field("description").OptStr()
	if err := b.Err(); err != nil {
		return err
	}
	m, err := h.repo.updateModule(r.Context(), id, u)
	if errors.Is(err, errNotFound) {
		return apperr.NotFound(msgModuleNotFound)
	}
	if err != nil {
		return err
	}
	return web.OK(w, m)
}

// deleteModule is DELETE /admin/modules/{module_id}: the §0.8 "module"
// cascade in one transaction, files removed after the commit.
func (h *Handler) deleteModule(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "module_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = h.purgeTx(ctx, func(tx pgx.Tx) (purge.Files, error) {
		if err := NewRepo(tx).moduleExists(ctx, id, "FOR UPDATE"); err != nil {
			return purge.Files{}, err
		}
		return purge.Modules(ctx, tx, []int32{id})
	})
	if err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: msgModuleDeleted})
}

// createSubject is POST /admin/modules/{module_id}/subjects.
func (h *Handler) createSubject(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "module_id")
	if err != nil {
		return err
	}
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	title := trimmedStr(b.Root().Object().Field("title"), 1, titleMax)
	if err := b.Err(); err != nil {
		return err
	}
	ctx := r.Context()
	var s catalog.Subject
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		repo := NewRepo(tx)
		// The module row lock serialises creations in one module, so two
		// concurrent requests cannot both pass the duplicate check.
		if err := repo.moduleExists(ctx, id, "FOR NO KEY UPDATE"); err != nil {
			return err
		}
		var err error
		s, err = repo.insertSubject(ctx, id, title)
		return err
	})
	if err != nil {
		return err
	}
	s.Lessons = []catalog.Lesson{}
	return web.OK(w, s)
}

// deleteSubject is DELETE /admin/modules/subjects/{subject_id}: the §0.8
// "subject" cascade.
func (h *Handler) deleteSubject(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "subject_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = h.purgeTx(ctx, func(tx pgx.Tx) (purge.Files, error) {
		if err := NewRepo(tx).lockSubject(ctx, id); err != nil {
			return purge.Files{}, err
		}
		return purge.Subjects(ctx, tx, []int32{id})
	})
	if err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: msgSubjectDeleted})
}

// purgeTx runs a purge in one transaction and removes its files after the commit.
func (h *Handler) purgeTx(ctx context.Context, fn func(tx pgx.Tx) (purge.Files, error)) error {
	var files purge.Files
	err := h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		var err error
		files, err = fn(tx)
		return err
	})
	if err != nil {
		return err
	}
	files.Remove(ctx, h.store)
	return nil
}

// groupBy groups items by key, keeping their order.
func groupBy[T any](items []T, key func(T) int32) map[int32][]T {
	out := make(map[int32][]T)
	for _, it := range items {
		out[key(it)] = append(out[key(it)], it)
	}
	return out
}

// nonNil is s, or an empty slice for nil (lists are [] in JSON, never null).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// insertModule creates a module dated now (UTC wall clock, naive column).
func (repo *Repo) insertModule(ctx context.Context, title string, course, desc *string) (catalog.ModuleBrief, error) {
	const q = `
INSERT INTO modules (title, course, description, created_at)
VALUES ($1, $2, $3, now() AT TIME ZONE 'UTC')
RETURNING id, title, course, description, created_at`
	rows, err := repo.db.Query(ctx, q, title, course, desc)
	return one[catalog.ModuleBrief](rows, err, "insert module")
}

// moduleUpdate is a PUT body: each Set* says whether the key was present.
type moduleUpdate struct {
	SetTitle, SetCourse, SetDesc bool
	Title                        string
	Course, Desc                 *string
}

// updateModule changes the present fields; errNotFound when no such module.
func (repo *Repo) updateModule(ctx context.Context, id int32, u moduleUpdate) (catalog.ModuleBrief, error) {
	const q = `
UPDATE modules SET
    title = CASE WHEN $2 THEN $3 ELSE title END,
    course = CASE WHEN $4 THEN $5 ELSE course END,
    description = CASE WHEN $6 THEN $7 ELSE description END
WHERE id = $1
RETURNING id, title, course, description, created_at`
	rows, err := repo.db.Query(ctx, q, id, u.SetTitle, u.Title, u.SetCourse, u.Course, u.SetDesc, u.Desc)
	return one[catalog.ModuleBrief](rows, err, "update module")
}

// moduleExists checks the module exists (404 "Модуль не найден" otherwise),
// optionally locking it ("", "FOR UPDATE", "FOR NO KEY UPDATE": constants
// of the caller, never input).
func (repo *Repo) moduleExists(ctx context.Context, id int32, lock string) error {
	return repo.requireRow(ctx, "load module", msgModuleNotFound, `SELECT 1 FROM modules WHERE id = $1 `+lock, id)
}

// lockSubject locks the subject for deletion (404 "Предмет не найден" when missing).
func (repo *Repo) lockSubject(ctx context.Context, id int32) error {
	return repo.requireRow(ctx, "lock subject", msgSubjectNotFound, `SELECT 1 FROM subjects WHERE id = $1 FOR UPDATE`, id)
}

// moduleTree reads every module, every subject (with its lessons as
// LessonShort) by id, in three queries.
func (repo *Repo) moduleTree(ctx context.Context) ([]catalog.ModuleBrief, []subjectLessons, error) {
	const qm = `SELECT id, title, course, description, created_at FROM modules ORDER BY id`
	rows, err := repo.db.Query(ctx, qm)
	modules, err := all[catalog.ModuleBrief](rows, err, "list modules")
	if err != nil {
		return nil, nil, err
	}
	const qs = `SELECT id, title, module_id, teacher_id FROM subjects ORDER BY id`
	rows, err = repo.db.Query(ctx, qs)
	subjects, err := all[subjectLessons](rows, err, "list subjects")
	if err != nil {
		return nil, nil, err
	}
	const ql = `SELECT id, title, type, content_url, subject_id FROM lessons ORDER BY id`
	rows, err = repo.db.Query(ctx, ql)
	lessons, err := all[lessonShortRow](rows, err, "list lessons")
	if err != nil {
		return nil, nil, err
	}
	bySubject := groupBy(lessons, func(l lessonShortRow) int32 { return l.SubjectID })
	for i := range subjects {
		ls := bySubject[subjects[i].ID]
		subjects[i].Lessons = make([]catalog.LessonShort, len(ls))
		for j, l := range ls {
			subjects[i].Lessons[j] = l.LessonShort
		}
	}
	return modules, subjects, nil
}

// subjectTeachers reads every user who teaches a subject.
func (repo *Repo) subjectTeachers(ctx context.Context) ([]auth.User, error) {
	const q = `
SELECT id, iin, full_name, phone, role::text AS role, photo FROM users
WHERE id IN (SELECT teacher_id FROM subjects)
ORDER BY id`
	rows, err := repo.db.Query(ctx, q)
	return all[auth.User](rows, err, "subject teachers")
}

// insertSubject adds a subject without a teacher, refusing a title equal
// (case-insensitively, compared exactly: % and _ are ordinary characters)
// to one already in the module. The titles are compared here rather than
// with SQL lower(), which folds Cyrillic only under a UTF-8-aware LC_CTYPE
// (an adopted database may use "C").
func (repo *Repo) insertSubject(ctx context.Context, moduleID int32, title string) (catalog.Subject, error) {
	const dup = `SELECT title FROM subjects WHERE module_id = $1`
	rows, err := repo.db.Query(ctx, dup, moduleID)
	if err != nil {
		return catalog.Subject{}, fmt.Errorf("admin: subject duplicate: %w", err)
	}
	titles, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return catalog.Subject{}, fmt.Errorf("admin: subject duplicate: %w", err)
	}
	folded := strings.ToLower(title)
	if slices.ContainsFunc(titles, func(t string) bool { return strings.ToLower(t) == folded }) {
		return catalog.Subject{}, apperr.BadRequest(msgSubjectExists)
	}
	const q = `
INSERT INTO subjects (module_id, title) VALUES ($1, $2)
RETURNING id, title, module_id, teacher_id`
	rows, err = repo.db.Query(ctx, q, moduleID, title)
	return one[catalog.Subject](rows, err, "insert subject")
}

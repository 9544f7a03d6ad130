// Package modules serves /admin/modules (API.md §6): modules and their
// subjects — create, list (with lessons, with teachers), read one under the
// §0.6 rule, update, and the §0.8 delete cascades.
package modules

import (
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/catalog"
	"platform/internal/db"
	"platform/internal/jobs"
	"platform/internal/policy"
	"platform/internal/purge"
	"platform/internal/storage"
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

// Handler serves /admin/modules.
type Handler struct {
	pool  *db.Pool
	repo  *repo
	store storage.Store
	jobs  *jobs.Engine // nil: files removed after the commit
}

// NewHandler returns the handler; store holds the files a delete removes.
func NewHandler(pool *db.Pool, store storage.Store) *Handler {
	return &Handler{pool: pool, repo: newRepo(pool), store: store}
}

// create is POST /admin/modules/.
func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	title := o.Field("title").StrMax(titleMax)
	course := o.Field("course").OptStrMax(courseMax)
	desc := o.Field("description").OptStrMax(web.MaxModuleDescription)
	if err := b.Err(); err != nil {
		return err
	}
	m, err := h.repo.insertModule(r.Context(), title, course, desc)
	if err != nil {
		return err
	}
	return web.OK(w, m)
}

// list is GET /admin/modules/: the page of modules by id with their
// subjects and lessons, read and written 50 modules at a time (three
// statements each).
func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	page, pageErr := web.ParseIDPage(r)
	if pageErr != nil {
		return pageErr
	}
	return web.Stream(w, r, func(yield func(moduleSubjects) error) error {
		return h.repo.moduleTrees(r.Context(), page, false, func(p treePart) error {
			byModule := groupBy(p.subjects, func(s subjectLessons) int32 { return s.ModuleID })
			for _, m := range p.modules {
				if err := yield(moduleSubjects{ModuleBrief: m, Subjects: nonNil(byModule[m.ID])}); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// listWithTeachers is GET /admin/modules/with-teachers: as list, with each
// subject's teacher (four statements per 50 modules).
func (h *Handler) listWithTeachers(w http.ResponseWriter, r *http.Request) error {
	page, pageErr := web.ParseIDPage(r)
	if pageErr != nil {
		return pageErr
	}
	return web.Stream(w, r, func(yield func(moduleTeachers) error) error {
		return h.repo.moduleTrees(r.Context(), page, true, func(p treePart) error {
			withTeacher := make([]subjectTeacher, len(p.subjects))
			for i, s := range p.subjects {
				withTeacher[i] = subjectTeacher{subjectLessons: s}
				if s.TeacherID != nil {
					withTeacher[i].Teacher = p.teachers[*s.TeacherID]
				}
			}
			byModule := groupBy(withTeacher, func(s subjectTeacher) int32 { return s.ModuleID })
			for _, m := range p.modules {
				if err := yield(moduleTeachers{ModuleBrief: m, Subjects: nonNil(byModule[m.ID])}); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// get is GET /admin/modules/{module_id}: any user; a student must be
// able to read the module (§0.6) and sees only the visible subjects.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
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

// update is PUT /admin/modules/{module_id}: only the keys present
// change; an explicit null clears course or description, never the title.
func (h *Handler) update(w http.ResponseWriter, r *http.Request) error {
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
		u.Title = o.Field("title").StrMax(titleMax)
	}
	u.Course = o.Field("course").OptStrMax(courseMax)
	u.Desc = o.Field("description").OptStrMax(web.MaxModuleDescription)
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

// delete is DELETE /admin/modules/{module_id}: the §0.8 "module"
// cascade in one transaction, files removed after the commit.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "module_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = jobs.PurgeTx(ctx, h.pool, h.store, h.jobs, func(tx pgx.Tx) (purge.Files, error) {
		if err := newRepo(tx).moduleExists(ctx, id, "FOR UPDATE"); err != nil {
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
	title := b.Root().Object().Field("title").TrimmedStr(1, titleMax)
	if err := b.Err(); err != nil {
		return err
	}
	ctx := r.Context()
	var s catalog.Subject
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		repo := newRepo(tx)
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
	err = jobs.PurgeTx(ctx, h.pool, h.store, h.jobs, func(tx pgx.Tx) (purge.Files, error) {
		if err := newRepo(tx).lockSubject(ctx, id); err != nil {
			return purge.Files{}, err
		}
		return purge.Subjects(ctx, tx, []int32{id})
	})
	if err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: msgSubjectDeleted})
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

// UseJobs queues deleted rows' file removals as jobs of e.
func (h *Handler) UseJobs(e *jobs.Engine) { h.jobs = e }

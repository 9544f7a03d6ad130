// Package access serves /access (API.md §7): who sees which modules,
// subjects and lessons, and the admin endpoints that grant it (group ↔
// module and group ↔ subject links, a subject's teacher). The read rules
// are those of §0.6, applied in the queries (catalog) or right after them
// (policy).
package access

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/catalog"
	"platform/internal/db"
	"platform/internal/policy"
	"platform/internal/web"
)

// The contract's texts (API.md §7, §0.6).
const (
	msgModuleNotFound       = "Модуль не найден"
	msgModuleNoAccess       = "Модуль не найден или доступ запрещён"
	msgGroupOrModule        = "Группа или Модуль не найдены"
	msgGroupOrSubject       = "Группа или предмет не найдены"
	msgSubjectNotFound      = "Предмет не найден"
	msgTeacherNotFound      = "Преподаватель не найден"
	msgNotTeacher           = "Пользователь не является преподавателем"
	msgSubjectNoAccess      = "Нет доступа к предмету"
	msgLessonNotFound       = "Урок не найден"
	msgLessonNoAccess       = "Нет доступа к уроку"
	msgLessonWithoutSubject = "Урок не привязан к предмету или модулю"
)

// Handler serves /access. Every endpoint writes at most one statement, and
// a row that vanishes between its reads is answered as the endpoint's 404,
// so none needs a transaction: everything runs on the pool. The module
// trees of the read endpoints come from tree, which caches them per module
// (catalog.Tree); the responses to writes load theirs directly.
type Handler struct {
	pool *db.Pool
	repo *Repo
	tree *catalog.Tree
}

// NewHandler returns the /access handler on the pool, with its own tree
// cache (one per server instance) of at most cacheBytes (0:
// catalog.DefaultCacheBytes).
func NewHandler(pool *db.Pool, cacheBytes int) *Handler {
	if cacheBytes <= 0 {
		cacheBytes = catalog.DefaultCacheBytes
	}
	return &Handler{pool: pool, repo: NewRepo(pool), tree: catalog.NewTree(pool, cacheBytes)}
}

// overview: GET /access-overview (admin): {"modules": [...]}, the page
// of modules (?limit/?offset/?after_id, additive; without them every module) written
// as it is read.
func (h *Handler) overview(w http.ResponseWriter, r *http.Request) error {
	page, err := web.ParseIDPage(r)
	if err != nil {
		return err
	}
	bw := web.Writer(w)
	defer web.ReleaseWriter(bw)
	started := false
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as web.OK writes
	err = h.repo.Overview(r.Context(), page, func(m overviewModule) error {
		buf.Reset()
		if err := enc.Encode(m); err != nil {
			return err
		}
		b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = bw.WriteString(`{"modules":[`)
		} else {
			_ = bw.WriteByte(',')
		}
		_, err = bw.Write(b)
		return err
	})
	switch {
	case err == nil && !started:
		return web.OK(w, overview{Modules: []overviewModule{}})
	case err == nil:
		_, _ = bw.WriteString("]}")
		return bw.Flush()
	case !started:
		return err
	default:
		if r.Context().Err() == nil {
			web.Logger(r.Context()).Error("overview cut short", "error", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// groupToModule: POST /admin/group-to-module (admin) → ModuleResponse.
func (h *Handler) groupToModule(w http.ResponseWriter, r *http.Request) error {
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	groupID, _ := o.Field("group_id").Int()
	moduleID, _ := o.Field("module_id").Int()
	if err := b.Err(); err != nil {
		return err
	}
	ctx := r.Context()
	if err := h.repo.LinkGroupToModule(ctx, groupID, moduleID); err != nil {
		return notFoundAs(err, msgGroupOrModule)
	}
	m, err := catalog.ModuleByID(ctx, h.pool, moduleID, catalog.Filter{})
	if err != nil {
		return notFoundAs(err, msgGroupOrModule)
	}
	return web.OK(w, m)
}

// teacherToSubject: POST /admin/teacher-to-subject (admin) → SubjectResponse.
func (h *Handler) teacherToSubject(w http.ResponseWriter, r *http.Request) error {
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	o := b.Root().Object()
	iin, _ := o.Field("teacher_iin").IIN()
	_, _ = o.Field("module_id").Int() // required, not used (§7: kept for compatibility)
	subjectID, _ := o.Field("subject_id").Int()
	if err := b.Err(); err != nil {
		return err
	}
	ctx := r.Context()
	// The contract's order: subject, then teacher, then the teacher's role.
	if _, err := policy.LoadSubject(ctx, h.pool, subjectID); err != nil {
		return notFoundAs(err, msgSubjectNotFound)
	}
	u, err := h.repo.UserByIIN(ctx, iin)
	if err != nil {
		return notFoundAs(err, msgTeacherNotFound)
	}
	if u.Role != string(auth.Teacher) {
		return apperr.BadRequest(msgNotTeacher)
	}
	switch err := h.repo.SetTeacher(ctx, subjectID, u.ID); {
	case errors.Is(err, errTeacherGone):
		return apperr.NotFound(msgTeacherNotFound)
	case err != nil:
		return notFoundAs(err, msgSubjectNotFound)
	}
	s, err := catalog.SubjectByID(ctx, h.pool, subjectID, 0)
	if err != nil {
		return notFoundAs(err, msgSubjectNotFound)
	}
	return web.OK(w, s)
}

// moduleGroups: GET /module/{module_id}/groups (admin) → [GroupRef…].
func (h *Handler) moduleGroups(w http.ResponseWriter, r *http.Request) error {
	page, pageErr := web.ParsePage(r)
	if pageErr != nil {
		return pageErr
	}
	moduleID, err := web.PathID(r, "module_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	ok, err := h.repo.ModuleExists(ctx, moduleID)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFound(msgModuleNotFound)
	}
	groups, err := h.repo.ModuleGroups(ctx, moduleID)
	if err != nil {
		return err
	}
	out := make([]groupRef, len(groups))
	for i, g := range groups {
		out[i] = groupRef{ID: g.ID, Title: g.Name, Name: g.Name, Description: g.Description}
	}
	return web.List(w, page, out)
}

// adminModules: GET /admin-modules (admin) → every ModuleResponse.
func (h *Handler) adminModules(w http.ResponseWriter, r *http.Request) error {
	return h.modules(w, r, catalog.Filter{}, 0, false)
}

// adminModule: GET /admin-modules/{module_id} (admin) → ModuleResponse.
func (h *Handler) adminModule(w http.ResponseWriter, r *http.Request) error {
	return h.module(w, r, catalog.Filter{}, msgModuleNotFound)
}

// myModules: GET /my-modules (auth). Admin: everything; student: the
// modules they may read with their visible subjects (catalog applies §0.6);
// teacher: modules their groups reach plus TM(u), with all subjects.
func (h *Handler) myModules(w http.ResponseWriter, r *http.Request) error {
	u := auth.MustUser(r.Context())
	var teacherID int32
	if u.Role == auth.Teacher {
		teacherID = u.ID
	}
	return h.modules(w, r, catalog.Filter{Viewer: &u}, teacherID, true)
}

// modules answers the trees loaded with f, restricted, when teacherID is
// set, to that teacher's modules (TeacherModuleIDs with viaGroups).
func (h *Handler) modules(w http.ResponseWriter, r *http.Request, f catalog.Filter, teacherID int32, viaGroups bool) error {
	ctx := r.Context()
	page, err := web.ParsePage(r)
	if err != nil {
		return err
	}
	f.Limit, f.Offset = page.Limit, page.Offset
	if teacherID != 0 {
		ids, err := h.repo.TeacherModuleIDs(ctx, teacherID, viaGroups)
		if err != nil {
			return err
		}
		f.ModuleIDs = ids
	}
	return streamTree(w, r, h.tree, f)
}

// streamTree writes the trees f selects as they are read, a chunk of
// modules at a time (catalog.Tree.Stream), through one pooled buffered
// writer. An error before the first byte is an ordinary error response;
// after it the status is sent, so the connection is cut and the client sees
// a truncated body, never a well-formed wrong one.
func streamTree(w http.ResponseWriter, r *http.Request, tree *catalog.Tree, f catalog.Filter) error {
	bw := web.Writer(w)
	defer web.ReleaseWriter(bw)
	started := false
	err := tree.Stream(r.Context(), f, func(p []byte) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
		}
		_, err := bw.Write(p)
		return err
	})
	if err == nil {
		err = bw.Flush()
	}
	switch {
	case err == nil:
		return nil
	case !started:
		return err
	default:
		if r.Context().Err() == nil {
			web.Logger(r.Context()).Error("module tree cut short", "error", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// myModule: GET /my-modules/{module_id} (auth; read module) → the module
// with the caller's visible subjects and their latest results.
func (h *Handler) myModule(w http.ResponseWriter, r *http.Request) error {
	u := auth.MustUser(r.Context())
	// A student's missing and unreadable modules are one answer: catalog
	// loads only the modules the viewer may read.
	return h.module(w, r, catalog.Filter{Viewer: &u, ResultsFor: u.ID}, msgModuleNoAccess)
}

// module answers one {module_id} tree loaded with f, or 404 with the text.
func (h *Handler) module(w http.ResponseWriter, r *http.Request, f catalog.Filter, notFound string) error {
	moduleID, err := web.PathID(r, "module_id")
	if err != nil {
		return err
	}
	body, err := h.tree.ModuleByID(r.Context(), moduleID, f)
	if err != nil {
		return notFoundAs(err, notFound)
	}
	return web.WriteParts(w, body...)
}

// teacherModules: GET /teacher-modules (teacher) → TM(u); admins: every module.
func (h *Handler) teacherModules(w http.ResponseWriter, r *http.Request) error {
	u := auth.MustUser(r.Context())
	var teacherID int32
	if u.Role != auth.Admin {
		teacherID = u.ID
	}
	return h.modules(w, r, catalog.Filter{}, teacherID, false)
}

// teacherModule: GET /teacher-modules/{module_id} (teacher; the module must
// be in TM(u), admins any) → ModuleResponse with all subjects.
func (h *Handler) teacherModule(w http.ResponseWriter, r *http.Request) error {
	moduleID, err := web.PathID(r, "module_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	u := auth.MustUser(ctx)
	if u.Role != auth.Admin {
		ids, err := h.repo.TeacherModuleIDs(ctx, u.ID, false)
		if err != nil {
			return err
		}
		if !slices.Contains(ids, moduleID) {
			return apperr.NotFound(msgModuleNoAccess)
		}
	}
	body, err := h.tree.ModuleByID(ctx, moduleID, catalog.Filter{})
	if err != nil {
		return notFoundAs(err, msgModuleNoAccess)
	}
	return web.WriteParts(w, body...)
}

// teacherSubjects: GET /teacher-subjects (teacher) → the subjects the
// teacher teaches; admins: every subject.
func (h *Handler) teacherSubjects(w http.ResponseWriter, r *http.Request) error {
	page, pageErr := web.ParsePage(r)
	if pageErr != nil {
		return pageErr
	}
	ctx := r.Context()
	u := auth.MustUser(ctx)
	var f catalog.SubjectFilter
	if u.Role != auth.Admin {
		f.TeacherID = u.ID
	}
	ss, err := catalog.Subjects(ctx, h.pool, f)
	if err != nil {
		return err
	}
	return web.List(w, page, ss)
}

// subjectLessons: GET /subjects/{subject_id}/lessons (auth; read subject).
func (h *Handler) subjectLessons(w http.ResponseWriter, r *http.Request) error {
	page, pageErr := web.ParsePage(r)
	if pageErr != nil {
		return pageErr
	}
	subjectID, err := web.PathID(r, "subject_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	u := auth.MustUser(ctx)
	s, err := policy.LoadSubject(ctx, h.pool, subjectID)
	if err != nil {
		return notFoundAs(err, msgSubjectNotFound)
	}
	ok, err := policy.CanReadSubject(ctx, h.pool, u, s)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Forbidden(msgSubjectNoAccess)
	}
	ls, err := catalog.Lessons(ctx, h.pool, subjectID, 0)
	if err != nil {
		return err
	}
	return web.List(w, page, ls)
}

// linkSubjectGroup: POST /subjects/{subject_id}/groups/{group_id} (admin).
func (h *Handler) linkSubjectGroup(w http.ResponseWriter, r *http.Request) error {
	return h.changeSubjectGroup(w, r, h.repo.LinkGroupToSubject)
}

// unlinkSubjectGroup: DELETE /subjects/{subject_id}/groups/{group_id} (admin).
func (h *Handler) unlinkSubjectGroup(w http.ResponseWriter, r *http.Request) error {
	return h.changeSubjectGroup(w, r, h.repo.UnlinkGroupFromSubject)
}

// changeSubjectGroup applies change to the subject_group link of the path
// and answers SubjectGroups as it is afterwards.
func (h *Handler) changeSubjectGroup(w http.ResponseWriter, r *http.Request,
	change func(ctx context.Context, groupID, subjectID int32) error) error {
	ids, err := pathIDs(r, "subject_id", "group_id")
	if err != nil {
		return err
	}
	subjectID, groupID := ids[0], ids[1]
	ctx := r.Context()
	if err := change(ctx, groupID, subjectID); err != nil {
		return notFoundAs(err, msgGroupOrSubject)
	}
	sg, err := h.repo.SubjectGroups(ctx, subjectID)
	if err != nil {
		return notFoundAs(err, msgGroupOrSubject)
	}
	return web.OK(w, sg)
}

// lesson: GET /lessons/{lesson_id} (auth; read lesson) → the lesson with the
// caller's latest result and its subject tree.
func (h *Handler) lesson(w http.ResponseWriter, r *http.Request) error {
	lessonID, err := web.PathID(r, "lesson_id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	u := auth.MustUser(ctx)
	l, err := catalog.LessonByID(ctx, h.pool, lessonID, u.ID)
	if err != nil {
		return notFoundAs(err, msgLessonNotFound)
	}
	s, err := policy.LoadSubject(ctx, h.pool, l.SubjectID)
	if errors.Is(err, policy.ErrNotFound) {
		// Unreachable with NOT NULL keys, kept from the original (§7).
		return apperr.BadRequest(msgLessonWithoutSubject)
	}
	if err != nil {
		return err
	}
	ok, err := policy.CanReadSubject(ctx, h.pool, u, s)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Forbidden(msgLessonNoAccess)
	}
	tree, err := catalog.SubjectByID(ctx, h.pool, l.SubjectID, 0)
	if errors.Is(err, catalog.ErrNotFound) {
		return apperr.BadRequest(msgLessonWithoutSubject)
	}
	if err != nil {
		return err
	}
	return web.OK(w, lessonFull{Lesson: l, Subject: tree})
}

// notFoundAs turns a "no such row" error of any loader into a 404 with the
// endpoint's text; other errors pass through.
func notFoundAs(err error, detail string) error {
	if errors.Is(err, errNotFound) || errors.Is(err, catalog.ErrNotFound) || errors.Is(err, policy.ErrNotFound) {
		return apperr.NotFound(detail)
	}
	return err
}

// pathIDs reads several integer path parameters, reporting every bad one
// in a single 422 as FastAPI validates all parameters before answering.
func pathIDs(r *http.Request, names ...string) ([]int32, error) {
	ids := make([]int32, len(names))
	errs := make([]error, len(names))
	for i, name := range names {
		ids[i], errs[i] = web.PathID(r, name)
	}
	if err := apperr.JoinInvalid(errs...); err != nil {
		return nil, err
	}
	return ids, nil
}

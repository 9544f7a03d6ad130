package access

import (
	"context"
	"errors"
	"fmt"

	"platform/internal/catalog"
	"platform/internal/db"
	"platform/internal/policy"
	"platform/internal/web"
)

// errNotFound reports that a row the statement needed does not exist (or
// vanished concurrently: a foreign-key violation); handlers answer their
// endpoint's own 404 text.
var errNotFound = errors.New("access: not found")

// Repo is the SQL of /access that the catalog loaders do not cover: links
// between groups and modules or subjects, teachers and the overview.
type Repo struct {
	q db.DBTX
}

// NewRepo returns a Repo running on q (a pool or a transaction).
func NewRepo(q db.DBTX) *Repo { return &Repo{q: q} }

// overviewChunk is how many modules Overview reads per round of statements.
const overviewChunk = 100

// Overview hands the page of modules (by id, LIMIT/OFFSET in SQL) to fn with
// their group links and subjects (with teacher and group links), a chunk of
// modules at a time in four statements each, so neither a page nor the
// whole overview is ever in memory at once.
func (repo *Repo) Overview(ctx context.Context, p web.Page, fn func(overviewModule) error) error {
	const idsSQL = `SELECT id FROM modules WHERE id > $3 ORDER BY id LIMIT $1 OFFSET $2`
	ids, err := db.All[int32](ctx, repo.q, "access: overview", idsSQL, p.Limit, p.Offset, p.AfterID)
	if err != nil {
		return err
	}
	for len(ids) > 0 {
		chunk := ids[:min(overviewChunk, len(ids))]
		ids = ids[len(chunk):]
		if err := repo.overviewChunk(ctx, chunk, fn); err != nil {
			return err
		}
	}
	return nil
}

// overviewChunk reads the overview of the modules of ids.
func (repo *Repo) overviewChunk(ctx context.Context, ids []int32, fn func(overviewModule) error) error {
	const modulesSQL = `SELECT id, title FROM modules WHERE id = ANY($1) ORDER BY id`
	const subjectsSQL = `
SELECT s.id, s.title, s.module_id, u.id AS teacher_id, u.full_name AS teacher_name
FROM subjects s LEFT JOIN users u ON u.id = s.teacher_id
WHERE s.module_id = ANY($1)
ORDER BY s.id`
	const moduleLinksSQL = `
SELECT mg.module_id AS owner_id, g.id, g.name
FROM module_group mg JOIN groups g ON g.id = mg.group_id
WHERE mg.module_id = ANY($1)
ORDER BY g.id`
	const subjectLinksSQL = `
SELECT sg.subject_id AS owner_id, g.id, g.name
FROM subject_group sg JOIN groups g ON g.id = sg.group_id
WHERE sg.subject_id = ANY($1)
ORDER BY g.id`
	modules, err := db.All[moduleTitle](ctx, repo.q, "access: overview modules", modulesSQL, ids)
	if err != nil {
		return err
	}
	subjects, err := db.All[overviewSubjectRow](ctx, repo.q, "access: overview subjects", subjectsSQL, ids)
	if err != nil {
		return err
	}
	moduleLinks, err := db.All[groupLink](ctx, repo.q, "access: overview module groups", moduleLinksSQL, ids)
	if err != nil {
		return err
	}
	// By the subject ids just read (an index probe each), not a subquery the
	// planner may answer by reading every link.
	subjectIDs := make([]int32, len(subjects))
	for i, s := range subjects {
		subjectIDs[i] = s.ID
	}
	subjectLinks, err := db.All[groupLink](ctx, repo.q, "access: overview subject groups", subjectLinksSQL, subjectIDs)
	if err != nil {
		return err
	}

	moduleGroups, subjectGroups := byOwner(moduleLinks), byOwner(subjectLinks)
	out := make([]overviewModule, len(modules))
	at := make(map[int32]int, len(modules))
	for i, m := range modules {
		at[m.ID] = i
		out[i] = overviewModule{ModuleID: m.ID, ModuleTitle: m.Title,
			Groups: orEmpty(moduleGroups[m.ID]), Subjects: []overviewSubject{}}
	}
	for _, s := range subjects {
		i, ok := at[s.ModuleID]
		if !ok {
			continue // the subject's module was created after the modules were read
		}
		os := overviewSubject{SubjectID: s.ID, Title: s.Title, Groups: orEmpty(subjectGroups[s.ID])}
		if s.TeacherID != nil && s.TeacherName != nil {
			os.Teacher = &teacherRef{ID: *s.TeacherID, FullName: *s.TeacherName}
		}
		out[i].Subjects = append(out[i].Subjects, os)
	}
	for _, m := range out {
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

// byOwner groups links by the module or subject they belong to.
func byOwner(links []groupLink) map[int32][]groupName {
	m := make(map[int32][]groupName)
	for _, l := range links {
		m[l.OwnerID] = append(m[l.OwnerID], groupName{ID: l.ID, Name: l.Name})
	}
	return m
}

// orEmpty is s, or an empty slice (a JSON []) when s is nil.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// exists runs a SELECT EXISTS (…) query.
func exists(ctx context.Context, q db.DBTX, sql string, args ...any) (bool, error) {
	var ok bool
	if err := q.QueryRow(ctx, sql, args...).Scan(&ok); err != nil {
		return false, fmt.Errorf("access: exists: %w", err)
	}
	return ok, nil
}

// ModuleExists reports whether the module exists.
func (repo *Repo) ModuleExists(ctx context.Context, moduleID int32) (bool, error) {
	const sql = `SELECT EXISTS (SELECT 1 FROM modules WHERE id = $1)`
	return exists(ctx, repo.q, sql, moduleID)
}

// LinkGroupToModule adds the module_group row (idempotent); errNotFound
// when the group or the module does not exist.
func (repo *Repo) LinkGroupToModule(ctx context.Context, groupID, moduleID int32) error {
	// Inserting only when both rows exist makes "missing" one answer; the
	// foreign keys still catch a row deleted after the check (→ errNotFound).
	const sql = `
WITH ok AS (
    SELECT EXISTS (SELECT 1 FROM groups WHERE id = $1) AND EXISTS (SELECT 1 FROM modules WHERE id = $2) AS ok
), ins AS (
    INSERT INTO module_group (module_id, group_id)
    SELECT $2, $1 FROM ok WHERE ok.ok
    ON CONFLICT DO NOTHING
)
SELECT ok FROM ok`
	return link(ctx, repo.q, sql, groupID, moduleID)
}

// LinkGroupToSubject adds the subject_group row (idempotent); errNotFound
// when the group or the subject does not exist.
func (repo *Repo) LinkGroupToSubject(ctx context.Context, groupID, subjectID int32) error {
	const sql = `
WITH ok AS (
    SELECT EXISTS (SELECT 1 FROM groups WHERE id = $1) AND EXISTS (SELECT 1 FROM subjects WHERE id = $2) AS ok
), ins AS (
    INSERT INTO subject_group (subject_id, group_id)
    SELECT $2, $1 FROM ok WHERE ok.ok
    ON CONFLICT DO NOTHING
)
SELECT ok FROM ok`
	return link(ctx, repo.q, sql, groupID, subjectID)
}

// UnlinkGroupFromSubject removes the subject_group row (a missing link is no
// error); errNotFound when the group or the subject does not exist.
func (repo *Repo) UnlinkGroupFromSubject(ctx context.Context, groupID, subjectID int32) error {
	const sql = `
WITH ok AS (
    SELECT EXISTS (SELECT 1 FROM groups WHERE id = $1) AND EXISTS (SELECT 1 FROM subjects WHERE id = $2) AS ok
), del AS (
    DELETE FROM subject_group WHERE subject_id = $2 AND group_id = $1
)
SELECT ok FROM ok`
	return link(ctx, repo.q, sql, groupID, subjectID)
}

// link runs a statement answering whether both rows it needed exist.
func link(ctx context.Context, q db.DBTX, sql string, args ...any) error {
	var ok bool
	err := q.QueryRow(ctx, sql, args...).Scan(&ok)
	if db.IsForeignKeyViolation(err) {
		return errNotFound
	}
	if err != nil {
		return fmt.Errorf("access: link: %w", err)
	}
	if !ok {
		return errNotFound
	}
	return nil
}

// ModuleGroups lists the groups linked to the module through module_group, by id.
func (repo *Repo) ModuleGroups(ctx context.Context, moduleID int32) ([]catalog.Group, error) {
	const sql = `
SELECT g.id, g.name, g.description
FROM module_group mg JOIN groups g ON g.id = mg.group_id
WHERE mg.module_id = $1
ORDER BY g.id`
	return db.All[catalog.Group](ctx, repo.q, "access: module groups", sql, moduleID)
}

// SubjectGroups reads the subject with its subject_group links (groups by
// id) in two queries; errNotFound when the subject does not exist.
func (repo *Repo) SubjectGroups(ctx context.Context, subjectID int32) (subjectGroups, error) {
	const subjectSQL = `SELECT id, title, module_id, teacher_id FROM subjects WHERE id = $1`
	const groupsSQL = `
SELECT g.id, g.name, g.description
FROM subject_group sg JOIN groups g ON g.id = sg.group_id
WHERE sg.subject_id = $1
ORDER BY g.id`
	s, err := db.One[subjectGroups](ctx, repo.q, "access: subject", errNotFound, subjectSQL, subjectID)
	if err != nil {
		return subjectGroups{}, err
	}
	if s.Groups, err = db.All[catalog.Group](ctx, repo.q, "access: subject groups", groupsSQL, subjectID); err != nil {
		return subjectGroups{}, err
	}
	return s, nil
}

// UserByIIN reads the id and role of the user with the IIN; errNotFound when none.
func (repo *Repo) UserByIIN(ctx context.Context, iin string) (userRole, error) {
	const sql = `SELECT id, role::text AS role FROM users WHERE iin = $1`
	return db.One[userRole](ctx, repo.q, "access: user", errNotFound, sql, iin)
}

// errTeacherGone reports that the teacher was deleted before the update.
var errTeacherGone = errors.New("access: teacher gone")

// SetTeacher makes the user the subject's teacher: errNotFound when the
// subject does not exist, errTeacherGone when the user vanished meanwhile.
func (repo *Repo) SetTeacher(ctx context.Context, subjectID, teacherID int32) error {
	const sql = `UPDATE subjects SET teacher_id = $2 WHERE id = $1`
	tag, err := repo.q.Exec(ctx, sql, subjectID, teacherID)
	if db.IsForeignKeyViolation(err) {
		return errTeacherGone
	}
	if err != nil {
		return fmt.Errorf("access: set teacher: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errNotFound
	}
	return nil
}

// TeacherModuleIDs lists the ids of TM(u) (§0.6: modules holding a subject
// the user teaches, plus teacher_module rows) and, with viaGroups, also the
// modules the user's groups reach (module or subject links), by id.
func (repo *Repo) TeacherModuleIDs(ctx context.Context, userID int32, viaGroups bool) ([]int32, error) {
	const sql = `
SELECT m.id FROM modules m
WHERE EXISTS (SELECT 1 FROM subjects s WHERE s.module_id = m.id AND s.teacher_id = $1)
   OR EXISTS (SELECT 1 FROM teacher_module tm WHERE tm.module_id = m.id AND tm.teacher_id = $1)
   OR ($2 AND EXISTS (SELECT 1 FROM ` + policy.StudentReads + ` r WHERE r.user_id = $1 AND r.module_id = m.id))
ORDER BY m.id`
	ids, err := db.All[int32](ctx, repo.q, "access: teacher modules", sql, userID, viaGroups)
	if err != nil {
		return nil, err
	}
	return ids, nil
}

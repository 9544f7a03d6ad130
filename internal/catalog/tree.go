package catalog

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"platform/internal/db"
	"platform/internal/policy"
)

// DefaultCacheBytes bounds a Tree's fragments when the configuration does
// not (TREE_CACHE_MB, whose default is the same): 96 MiB holds a district's
// whole catalogue — 1,000 modules × 10 subjects × 20 lessons, about 41 KB
// of fragments per module (measured by make bench) — so students in
// different groups share fragments instead of evicting one another.
const DefaultCacheBytes = 96 << 20

// Tree serves ModuleResponse trees from fragments cached per module, the
// way Moodle's modinfo cache keys a course's structure by a course revision.
//
// A module's fragment is its JSON with every lesson's result null, split
// per subject; it is valid while course_revision.rev of the module is what
// it was built under. The triggers of migration 9 move rev on every write
// to the module, its subjects or their lessons in the writing transaction,
// whoever writes (another instance, the original application, psql). Each
// read asks PostgreSQL for the current revs (one statement, together with
// what the viewer may see), so after a write commits the next read on any
// instance rebuilds. Who sees which module and subject (groups, links) is
// never cached: it comes from the same statement every time, and only the
// visibility-independent fragments are reused. Results are per user and
// are read per request.
//
// A fragment is built from statements that run after the one that read its
// rev, so it is never older than its rev: at worst it already includes a
// later write, whose higher rev makes the next read rebuild it again.
type Tree struct {
	q     db.DBTX
	cache *fragmentCache
}

// NewTree returns a Tree reading q with at most maxBytes of fragments.
func NewTree(q db.DBTX, maxBytes int) *Tree {
	return &Tree{q: q, cache: newFragmentCache(maxBytes)}
}

// Body is a response body assembled from cached and fresh fragments, to
// write with web.WriteParts (its length is known before the first byte).
type Body [][]byte

// StreamChunk is how many modules Stream reads and writes at a time: a
// miss costs three statements per chunk, and memory holds one chunk's
// parts, whatever the catalogue's size.
const StreamChunk = 50

// Stream writes what Modules answers, part by part, to write, a chunk of
// modules at a time: each chunk's fragments come from the cache or are
// built (three statements for its misses), results (with f.ResultsFor) are
// read per chunk, and the chunk's parts are written before the next chunk
// is read, so no response is ever whole in memory. write receives parts
// that may be shared with the cache: it must not modify or keep them.
func (t *Tree) Stream(ctx context.Context, f Filter, write func([]byte) error) error {
	views, err := t.visible(ctx, f)
	if err != nil {
		return err
	}
	views = pageOf(views, f.Limit, f.Offset)
	if err := write([]byte{'['}); err != nil {
		return err
	}
	first := true
	var body Body
	for len(views) > 0 {
		chunk := views[:min(StreamChunk, len(views))]
		views = views[len(chunk):]
		frags, err := t.fragments(ctx, chunk)
		if err != nil {
			return err
		}
		var results map[int32][]byte
		if f.ResultsFor != 0 {
			if results, err = t.results(ctx, frags, chunk, f.ResultsFor); err != nil {
				return err
			}
		}
		body = body[:0]
		for i, v := range chunk {
			fr := frags[i]
			if fr == nil {
				continue // deleted since the visibility statement
			}
			if !first {
				body = append(body, comma)
			}
			first = false
			body = fr.appendTo(body, v, results)
		}
		for _, p := range body {
			if err := write(p); err != nil {
				return err
			}
		}
	}
	return write([]byte{']'})
}

// ModuleByID answers one module as Stream with f.ModuleIDs = {id} would,
// as a JSON object; ErrNotFound when the module does not exist or, for a
// student Viewer, is not readable by them. Keeping Stream's parts is safe
// here: they are cached fragments or built for this call, never reused.
func (t *Tree) ModuleByID(ctx context.Context, id int32, f Filter) (Body, error) {
	f.ModuleIDs = []int32{id}
	var body Body
	err := t.Stream(ctx, f, func(p []byte) error { body = append(body, p); return nil })
	if err != nil {
		return nil, err
	}
	if len(body) == 2 { // "[" "]"
		return nil, ErrNotFound
	}
	return body[1 : len(body)-1], nil
}

var comma = []byte{','}

// view is one module the viewer may read, at its current rev: all
// subjects, or only those listed.
type view struct {
	id       int32
	rev      int64
	subjects []int32
	all      bool
}

// visible reads the modules f selects with their revs and, for a student,
// the subjects they may see, in one statement.
func (t *Tree) visible(ctx context.Context, f Filter) ([]view, error) {
	// $1: every module; $2: else these ids; $3: student id or 0.
	const sql = `
SELECT m.id, coalesce(cr.rev, 0),
       CASE WHEN $3 = 0 THEN NULL ELSE ARRAY(
           SELECT DISTINCT r.subject_id FROM ` + policy.StudentReads + ` r
           WHERE r.user_id = $3 AND r.module_id = m.id AND r.subject_id IS NOT NULL) END
FROM modules m
LEFT JOIN course_revision cr ON cr.module_id = m.id
WHERE ($1 OR m.id = ANY($2))
  AND ($3 = 0 OR EXISTS (SELECT 1 FROM ` + policy.StudentReads + ` r WHERE r.user_id = $3 AND r.module_id = m.id))
ORDER BY m.id`
	ids := f.ModuleIDs
	if ids == nil {
		ids = []int32{}
	}
	rows, err := t.q.Query(ctx, sql, f.ModuleIDs == nil, ids, f.studentID())
	if err != nil {
		return nil, fmt.Errorf("catalog: visible modules: %w", err)
	}
	// "All subjects" follows from the viewer, never from a NULL or empty
	// array: a student's module may show no subject at all.
	all := f.studentID() == 0
	views, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (view, error) {
		v := view{all: all}
		err := row.Scan(&v.id, &v.rev, &v.subjects)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: visible modules: %w", err)
	}
	return views, nil
}

// fragments returns the fragment of each view (nil for a module deleted
// meanwhile): cached when its rev matches, else built in one go for all
// the misses (three statements) and cached.
func (t *Tree) fragments(ctx context.Context, views []view) ([]*fragment, error) {
	out := make([]*fragment, len(views))
	var missing []int32
	for i, v := range views {
		if out[i] = t.cache.get(v.id, v.rev); out[i] == nil {
			missing = append(missing, v.id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	built, err := t.build(ctx, missing)
	if err != nil {
		return nil, err
	}
	for i, v := range views {
		if out[i] == nil {
			out[i] = built[v.id]
		}
	}
	return out, nil
}

// build loads the modules' trees (results null) with their revs, encodes
// them and caches them.
func (t *Tree) build(ctx context.Context, ids []int32) (map[int32]*fragment, error) {
	// The rev is read in the same statement as the module rows and before
	// the subjects and lessons: the fragment is at least as new as its rev.
	const sql = `
SELECT m.id, m.title, m.course, m.description, m.created_at, coalesce(cr.rev, 0)
FROM modules m
LEFT JOIN course_revision cr ON cr.module_id = m.id
WHERE m.id = ANY($1)
ORDER BY m.id`
	rows, err := t.q.Query(ctx, sql, ids)
	if err != nil {
		return nil, fmt.Errorf("catalog: modules: %w", err)
	}
	type revModule struct {
		Module
		rev int64
	}
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (revModule, error) {
		var m revModule
		err := row.Scan(&m.ID, &m.Title, &m.Course, &m.Description, &m.CreatedAt, &m.rev)
		m.Subjects = []Subject{}
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("catalog: modules: %w", err)
	}
	out := make(map[int32]*fragment, len(ms))
	if len(ms) == 0 {
		return out, nil
	}
	found := make([]int32, len(ms))
	at := make(map[int32]int, len(ms))
	for i, m := range ms {
		found[i] = m.ID
		at[m.ID] = i
	}
	subjects, err := subjectsOfModules(ctx, t.q, found, 0)
	if err != nil {
		return nil, err
	}
	if err := fillLessons(ctx, t.q, subjects, 0); err != nil {
		return nil, err
	}
	for _, s := range subjects {
		if i, ok := at[s.ModuleID]; ok {
			ms[i].Subjects = append(ms[i].Subjects, s)
		}
	}
	for i := range ms {
		fr, err := newFragment(&ms[i].Module, ms[i].rev)
		if err != nil {
			return nil, err
		}
		t.cache.put(fr)
		out[fr.id] = fr
	}
	return out, nil
}

// results reads userID's latest result of every lesson the body shows,
// encoded, by lesson id.
func (t *Tree) results(ctx context.Context, frags []*fragment, views []view, userID int32) (map[int32][]byte, error) {
	var ids []int32
	for i, fr := range frags {
		if fr == nil {
			continue
		}
		for j := range fr.subjects {
			if views[i].shows(fr.subjects[j].id) {
				ids = append(ids, fr.subjects[j].lessons...)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	lessons := make([]Lesson, len(ids))
	for i, id := range ids {
		lessons[i].ID = id
	}
	if err := fillResults(ctx, t.q, lessons, userID); err != nil {
		return nil, err
	}
	out := make(map[int32][]byte, len(lessons))
	for _, l := range lessons {
		if l.Result != nil {
			b, err := marshal(l.Result)
			if err != nil {
				return nil, fmt.Errorf("catalog: result %d: %w", l.Result.ID, err)
			}
			out[l.ID] = b
		}
	}
	return out, nil
}

// shows reports whether the view includes the subject.
func (v view) shows(subjectID int32) bool {
	if v.all {
		return true
	}
	for _, id := range v.subjects {
		if id == subjectID {
			return true
		}
	}
	return false
}

// fragment is one module's encoded tree: head is `{…,"subjects":[`, each
// subject a complete SubjectResponse with null results.
type fragment struct {
	id       int32
	rev      int64
	head     []byte
	subjects []subjectFragment
	size     int
}

// subjectFragment is one subject's JSON; nullAt are the offsets of each
// lesson's `null` result, in the order of lessons, for splicing a user's
// results in.
type subjectFragment struct {
	id      int32
	json    []byte
	lessons []int32
	nullAt  []int
}

var (
	tail = []byte("]}")
	null = []byte("null")
)

// newFragment encodes m with every result null (encoding/json: fragments
// are built on a cache miss only, so their encoding is rare) and notes
// where each lesson's null result is, for splicing.
func newFragment(m *Module, rev int64) (*fragment, error) {
	fr := &fragment{id: m.ID, rev: rev}
	head, err := marshal(&m.ModuleBrief)
	if err != nil {
		return nil, fmt.Errorf("catalog: module %d: %w", m.ID, err)
	}
	fr.head = append(head[:len(head)-1], `,"subjects":[`...)
	fr.size = len(fr.head)
	fr.subjects = make([]subjectFragment, len(m.Subjects))
	for i := range m.Subjects {
		s := m.Subjects[i]
		s.Lessons = append([]Lesson{}, s.Lessons...) // a copy; [] even when none
		sf := subjectFragment{id: s.ID, lessons: make([]int32, len(s.Lessons)), nullAt: make([]int, len(s.Lessons))}
		for j := range s.Lessons {
			s.Lessons[j].Result = nil
			sf.lessons[j] = s.Lessons[j].ID
		}
		if sf.json, err = marshal(&s); err != nil {
			return nil, fmt.Errorf("catalog: subject %d: %w", s.ID, err)
		}
		// The j-th `"result":null` is the j-th lesson's: the key cannot occur
		// inside a string value, where every quote is escaped.
		from := 0
		for j := range sf.lessons {
			k := bytes.Index(sf.json[from:], resultNull)
			if k < 0 {
				return nil, fmt.Errorf("catalog: subject %d: lesson %d has no result member", s.ID, sf.lessons[j])
			}
			sf.nullAt[j] = from + k + len(resultNull) - len(null)
			from = sf.nullAt[j] + len(null)
		}
		fr.subjects[i] = sf
		fr.size += len(sf.json) + 8*len(sf.lessons) + 16
	}
	return fr, nil
}

var resultNull = []byte(`"result":null`)

// marshal is v as web.JSON writes it: encoding/json without HTML escaping,
// no trailing newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// appendTo appends the module's parts for the view (its visible subjects)
// with the results spliced in (nil map: every result null).
func (fr *fragment) appendTo(body Body, v view, results map[int32][]byte) Body {
	body = append(body, fr.head)
	first := true
	for i := range fr.subjects {
		sf := &fr.subjects[i]
		if !v.shows(sf.id) {
			continue
		}
		if !first {
			body = append(body, comma)
		}
		first = false
		if results == nil {
			body = append(body, sf.json)
			continue
		}
		from := 0
		for j, id := range sf.lessons {
			r, ok := results[id]
			if !ok {
				continue
			}
			body = append(body, sf.json[from:sf.nullAt[j]], r)
			from = sf.nullAt[j] + len(null)
		}
		body = append(body, sf.json[from:])
	}
	return append(body, tail)
}

// fragmentCache is an LRU of fragments by module id, bounded in bytes.
type fragmentCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // front = most recently used; values are *fragment
	byID  map[int32]*list.Element
}

func newFragmentCache(maxBytes int) *fragmentCache {
	return &fragmentCache{max: maxBytes, order: list.New(), byID: map[int32]*list.Element{}}
}

// get returns the module's fragment if it was built under rev.
func (c *fragmentCache) get(id int32, rev int64) *fragment {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok {
		return nil
	}
	fr := e.Value.(*fragment)
	if fr.rev != rev {
		return nil
	}
	c.order.MoveToFront(e)
	return fr
}

// put stores fr unless a fragment of a later rev is there already (a
// slower concurrent build must not replace a newer one), then evicts the
// least recently used fragments beyond the byte bound. A fragment larger
// than the bound is not kept at all.
func (c *fragmentCache) put(fr *fragment) {
	if fr.size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[fr.id]; ok {
		old := e.Value.(*fragment)
		if old.rev > fr.rev {
			return
		}
		c.size -= old.size
		e.Value = fr
		c.order.MoveToFront(e)
	} else {
		c.byID[fr.id] = c.order.PushFront(fr)
	}
	c.size += fr.size
	for c.size > c.max {
		e := c.order.Back()
		old := e.Value.(*fragment)
		c.order.Remove(e)
		delete(c.byID, old.id)
		c.size -= old.size
	}
}

// pageOf is the page of the id-ordered views that ?limit/?offset asked for
// (limit 0: no limit), so only the page's fragments are loaded.
func pageOf[T any](views []T, limit, offset int) []T {
	if offset >= len(views) {
		return views[:0]
	}
	views = views[offset:]
	if limit > 0 && len(views) > limit {
		views = views[:limit]
	}
	return views
}

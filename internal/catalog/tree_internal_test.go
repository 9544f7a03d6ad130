package catalog

import (
	"bytes"
	"testing"
	"time"

	"platform/internal/timefmt"
)

// The cache keeps at most its byte bound, evicting the least recently
// used fragments, never answers for another rev, and never replaces a
// fragment by an older build.
func TestFragmentCacheBounds(t *testing.T) {
	t.Parallel()
	frag := func(id int32, rev int64) *fragment { return &fragment{id: id, rev: rev, size: 100} }
	c := newFragmentCache(300)
	for id := int32(1); id <= 3; id++ {
		c.put(frag(id, 1))
	}
	if c.get(1, 1) == nil { // 1 is now the most recently used
		t.Fatal("fragment 1 missing")
	}
	c.put(frag(4, 1)) // evicts 2, the least recently used
	if c.get(2, 1) != nil || c.get(1, 1) == nil || c.get(3, 1) == nil || c.get(4, 1) == nil {
		t.Fatal("wrong eviction")
	}
	if c.size != 300 || len(c.byID) != 3 || c.order.Len() != 3 {
		t.Fatalf("size %d, %d entries, %d in order", c.size, len(c.byID), c.order.Len())
	}
	if c.get(1, 2) != nil {
		t.Fatal("answered for another rev")
	}
	c.put(frag(1, 5))
	c.put(frag(1, 4)) // a slower build of an older rev
	if c.get(1, 5) == nil || c.get(1, 4) != nil {
		t.Fatal("older build replaced a newer one")
	}
	c.put(&fragment{id: 9, rev: 1, size: 301}) // larger than the bound: not kept
	if c.get(9, 1) != nil || c.size != 300 {
		t.Fatalf("oversized fragment kept (size %d)", c.size)
	}
}

// A fragment with a user's results spliced in is byte for byte what
// encoding/json writes for the module with those results, for every view,
// on text that needs escaping or looks like the spliced member.
func TestFragmentSplicesResults(t *testing.T) {
	t.Parallel()
	ptr := func(s string) *string { return &s }
	at := &timefmt.Time{Time: time.Date(2025, 6, 4, 8, 30, 0, 5000, time.UTC)}
	lesson := func(id int32, title string) Lesson {
		return Lesson{ID: id, Title: title, Type: "pdf", ContentURL: "/static/x", SubjectID: 1, CreatedAt: at, DueAt: at}
	}
	m := Module{ModuleBrief: ModuleBrief{ID: 7, Title: `М <1> & "\u2028`, Course: ptr("2"), CreatedAt: at},
		Subjects: []Subject{
			{ID: 1, Title: `"result":null`, ModuleID: 7, Lessons: []Lesson{
				lesson(10, `"result":null,`), lesson(11, "Урок\t\xff"), lesson(12, `x\"result\":null`)}},
			{ID: 2, Title: "empty", ModuleID: 7},
			{ID: 3, Title: "S3", ModuleID: 7, Lessons: []Lesson{lesson(13, "L")}},
		}}
	fr, err := newFragment(&m, 1)
	if err != nil {
		t.Fatal(err)
	}
	results := map[int32]*Result{
		10: {ID: 100, UserID: 5, LessonID: ptr32(10), Score: 66.67, SubmittedAt: at},
		12: {ID: 101, UserID: 5, Score: 4},
		13: {ID: 102, UserID: 5, TestID: ptr32(3), Score: 1e-7},
	}
	encoded := map[int32][]byte{}
	for id, r := range results {
		if encoded[id], err = marshal(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []view{{all: true}, {subjects: []int32{1, 3}}, {subjects: []int32{2}}, {}} {
		for _, withResults := range []bool{false, true} {
			want := m
			want.Subjects = nil
			for _, s := range m.Subjects {
				if !v.shows(s.ID) {
					continue
				}
				s.Lessons = append([]Lesson{}, s.Lessons...)
				for j := range s.Lessons {
					if withResults {
						s.Lessons[j].Result = results[s.Lessons[j].ID]
					}
				}
				want.Subjects = append(want.Subjects, s)
			}
			if want.Subjects == nil {
				want.Subjects = []Subject{}
			}
			wantJSON, err := marshal(&want)
			if err != nil {
				t.Fatal(err)
			}
			var res map[int32][]byte
			if withResults {
				res = encoded
			}
			got := bytes.Join(fr.appendTo(nil, v, res), nil)
			if string(got) != string(wantJSON) {
				t.Errorf("view %+v, results %v:\n got  %s\n want %s", v, withResults, got, wantJSON)
			}
		}
	}
}

func ptr32(v int32) *int32 { return &v }

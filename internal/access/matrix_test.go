package access_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
)

type want struct {
	code   int
	detail string // checked for errors
}

var (
	ok      = want{code: 200}
	anon    = want{401, "Not authenticated"}
	admOnly = want{403, "Доступ воспрещен: только для администраторов"}
	tchOnly = want{403, "Доступ воспрещен: только для преподавателей"}
	noMod   = want{404, "Модуль не найден или доступ запрещён"}
	noSubj  = want{403, "Нет доступа к предмету"}
	noLess  = want{403, "Нет доступа к уроку"}
)

// TestAccessMatrix walks every /access endpoint with every kind of caller
// and checks the status (and refusal text) the contract gives each.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	callers := []struct {
		name string
		user apitest.User
	}{
		{"admin", w.admin},
		{"subject's teacher", w.teacher},
		{"other teacher", w.other},
		{"student via module link", w.studentMod},
		{"student via subject link", w.studentSubj},
		{"student without access", w.studentNone},
		{"no token", apitest.User{}},
	}
	adminOnly := [7]want{ok, admOnly, admOnly, admOnly, admOnly, admOnly, anon}
	teacherOnly := [7]want{ok, ok, ok, tchOnly, tchOnly, tchOnly, anon}
	// Admin mutations use g4 (no members) so they change nobody's access.
	rows := []struct {
		method, path string
		body         any
		want         [7]want
	}{
		{"GET", "/access/access-overview", nil, adminOnly},
		{"POST", "/access/admin/group-to-module", map[string]any{"group_id": w.g4, "module_id": w.m1}, adminOnly},
		{"POST", "/access/admin/teacher-to-subject",
			map[string]any{"teacher_iin": w.teacher.IIN, "module_id": w.m1, "subject_id": w.s1}, adminOnly},
		{"GET", fmt.Sprintf("/access/module/%d/groups", w.m1), nil, adminOnly},
		{"GET", "/access/admin-modules", nil, adminOnly},
		{"GET", fmt.Sprintf("/access/admin-modules/%d", w.m1), nil, adminOnly},
		{"POST", fmt.Sprintf("/access/subjects/%d/groups/%d", w.s1, w.g4), nil, adminOnly},
		{"DELETE", fmt.Sprintf("/access/subjects/%d/groups/%d", w.s1, w.g4), nil, adminOnly},
		{"GET", "/access/my-modules", nil, [7]want{ok, ok, ok, ok, ok, ok, anon}},
		{"GET", fmt.Sprintf("/access/my-modules/%d", w.m1), nil, [7]want{ok, ok, ok, ok, ok, noMod, anon}},
		{"GET", fmt.Sprintf("/access/my-modules/%d", w.m2), nil, [7]want{ok, ok, ok, noMod, noMod, noMod, anon}},
		{"GET", "/access/teacher-modules", nil, teacherOnly},
		{"GET", fmt.Sprintf("/access/teacher-modules/%d", w.m1), nil, [7]want{ok, ok, noMod, tchOnly, tchOnly, tchOnly, anon}},
		{"GET", fmt.Sprintf("/access/teacher-modules/%d", w.m2), nil, [7]want{ok, noMod, ok, tchOnly, tchOnly, tchOnly, anon}},
		{"GET", "/access/teacher-subjects", nil, teacherOnly},
		{"GET", fmt.Sprintf("/access/subjects/%d/lessons", w.s1), nil, [7]want{ok, ok, ok, ok, ok, noSubj, anon}},
		{"GET", fmt.Sprintf("/access/subjects/%d/lessons", w.s1b), nil, [7]want{ok, ok, ok, ok, noSubj, noSubj, anon}},
		{"GET", fmt.Sprintf("/access/lessons/%d", w.l1), nil, [7]want{ok, ok, ok, ok, ok, noLess, anon}},
		{"GET", fmt.Sprintf("/access/lessons/%d", w.l1b), nil, [7]want{ok, ok, ok, ok, noLess, noLess, anon}},
	}
	for _, row := range rows {
		for i, c := range callers {
			t.Run(row.method+" "+row.path+"/"+c.name, func(t *testing.T) {
				res := w.env.Do(t, row.method, row.path, c.user, row.body)
				if wt := row.want[i]; wt.code == 200 {
					res.Status(t, 200)
				} else {
					res.Error(t, wt.code, wt.detail)
				}
			})
		}
	}
}

// TestWhoSeesWhat checks the content of the listing endpoints per caller:
// which modules, with which subjects (§0.6 and §7).
func TestWhoSeesWhat(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	all := "[" + join([]string{w.m1JSON(), w.m2JSON(), w.m3JSON(), w.m4JSON()}) + "]"
	// studentSubj reaches m1 only through s1: s1b is hidden.
	m1OnlyS1 := moduleJSON(w.m1, "Модуль 1", subjectJSON(w.s1, "Математика", w.m1, &w.teacher.ID, lessonJSON(w.l1, w.s1)))
	cases := []struct {
		name string
		path string
		as   apitest.User
		want string
	}{
		{"my-modules admin: all", "/access/my-modules", w.admin, all},
		{"my-modules student via module: all subjects", "/access/my-modules", w.studentMod, "[" + w.m1JSON() + "]"},
		{"my-modules student via subject: that subject", "/access/my-modules", w.studentSubj, "[" + m1OnlyS1 + "]"},
		{"my-modules student without access: none", "/access/my-modules", w.studentNone, "[]"},
		// teacher: m1 (teaches s1), m3 (teacher_module), m4 (their group) — all subjects.
		{"my-modules teacher: TM + groups", "/access/my-modules", w.teacher,
			"[" + join([]string{w.m1JSON(), w.m3JSON(), w.m4JSON()}) + "]"},
		{"my-modules other teacher: taught module", "/access/my-modules", w.other, "[" + w.m2JSON() + "]"},
		{"my-module student via subject: visible subjects", fmt.Sprintf("/access/my-modules/%d", w.m1), w.studentSubj, m1OnlyS1},
		{"my-module teacher: all subjects of any module", fmt.Sprintf("/access/my-modules/%d", w.m2), w.teacher, w.m2JSON()},
		{"teacher-modules teacher: TM only (no group links)", "/access/teacher-modules", w.teacher,
			"[" + w.m1JSON() + "," + w.m3JSON() + "]"},
		{"teacher-modules admin: all", "/access/teacher-modules", w.admin, all},
		{"teacher-module via teacher_module row", fmt.Sprintf("/access/teacher-modules/%d", w.m3), w.teacher, w.m3JSON()},
		{"teacher-module admin: any", fmt.Sprintf("/access/teacher-modules/%d", w.m4), w.admin, w.m4JSON()},
		{"teacher-subjects teacher: own", "/access/teacher-subjects", w.teacher,
			"[" + subjectJSON(w.s1, "Математика", w.m1, &w.teacher.ID, lessonJSON(w.l1, w.s1)) + "]"},
		{"teacher-subjects admin: all", "/access/teacher-subjects", w.admin, "[" + join([]string{
			subjectJSON(w.s1, "Математика", w.m1, &w.teacher.ID, lessonJSON(w.l1, w.s1)),
			subjectJSON(w.s1b, "Физика", w.m1, nil, lessonJSON(w.l1b, w.s1b)),
			subjectJSON(w.s2, "Химия", w.m2, &w.other.ID, lessonJSON(w.l2, w.s2)),
			subjectJSON(w.s4, "История", w.m4, nil, lessonJSON(w.l4, w.s4)),
		}) + "]"},
		{"admin-modules: all", "/access/admin-modules", w.admin, all},
		{"admin-module", fmt.Sprintf("/access/admin-modules/%d", w.m1), w.admin, w.m1JSON()},
		{"subject lessons", fmt.Sprintf("/access/subjects/%d/lessons", w.s1), w.studentSubj, "[" + lessonJSON(w.l1, w.s1) + "]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			jsonEq(t, w.env.Do(t, "GET", tc.path, tc.as, nil), tc.want)
		})
	}
}

package catalog_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"platform/internal/catalog"
	"platform/internal/timefmt"
)

func stdlibJSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func ptr[T any](v T) *T { return &v }

// sampleModules covers every field kind: nil and set pointers, nil and
// empty slices, strings that need escaping, fractional scores and times.
func sampleModules() []catalog.Module {
	at := &timefmt.Time{Time: time.Date(2025, 6, 4, 8, 30, 0, 120000000, time.UTC)}
	lesson := catalog.Lesson{ID: 7, Title: "Урок <1> & \"кавычки\" \\ \u2028 \x01 \xff", Description: ptr("описание\nстрока"),
		Type: "video", ContentURL: "https://example.com/?a=1&b=<2>", SubjectID: 3, CreatedAt: at,
		Result: &catalog.Result{ID: 1, UserID: 2, LessonID: ptr(int32(7)), Score: 66.67, SubmittedAt: at},
		DueAt:  at, CutoffAt: &timefmt.Time{Time: time.Date(2025, 6, 5, 0, 0, 0, 0, time.UTC)}}
	bare := catalog.Lesson{ID: 8, Title: "", Type: "pdf", SubjectID: 3}
	zeroResult := catalog.Lesson{ID: 9, Title: "t", Type: "test", SubjectID: 3,
		Result: &catalog.Result{ID: 3, UserID: 2, TestID: ptr(int32(4)), Score: 1e-7}, DueAt: at}
	return []catalog.Module{
		{ModuleBrief: catalog.ModuleBrief{ID: 1, Title: "М", Course: ptr("1"), Description: ptr(""), CreatedAt: at},
			Subjects: []catalog.Subject{
				{ID: 3, Title: "С", ModuleID: 1, TeacherID: ptr(int32(5)), Lessons: []catalog.Lesson{lesson, bare, zeroResult}},
				{ID: 4, Title: "Пустой", ModuleID: 1, Lessons: []catalog.Lesson{}},
				{ID: 5, Title: "nil lessons", ModuleID: 1},
			}},
		{ModuleBrief: catalog.ModuleBrief{ID: 2, Title: "без предметов"}, Subjects: []catalog.Subject{}},
		{ModuleBrief: catalog.ModuleBrief{ID: 3, Title: "nil subjects"}},
	}
}

// The reflection-free encoders write exactly what web.JSON writes.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	ms := sampleModules()
	check := func(name string, got []byte, ok bool, v any) {
		t.Helper()
		if want := stdlibJSON(t, v); !ok || string(got) != want {
			t.Errorf("%s:\n got %s (ok %v)\nwant %s", name, got, ok, want)
		}
	}
	got, ok := catalog.AppendModules(nil, ms)
	check("modules", got, ok, ms)
	got, ok = catalog.AppendModules(nil, nil)
	check("nil modules", got, ok, []catalog.Module(nil))
	got, ok = catalog.AppendSubjects(nil, ms[0].Subjects)
	check("subjects", got, ok, ms[0].Subjects)
	got, ok = catalog.AppendLessons(nil, ms[0].Subjects[0].Lessons)
	check("lessons", got, ok, ms[0].Subjects[0].Lessons)
	check("brief", ms[0].ModuleBrief.AppendJSON(nil), true, ms[0].ModuleBrief)

	nan := catalog.Result{Score: math.NaN()}
	if _, ok := nan.AppendJSON(nil); ok {
		t.Error("NaN score encoded")
	}
}

// The encoders against encoding/json and json.Marshal of the same tree:
// allocations per op are the load-independent figure.
func BenchmarkEncodeModules(b *testing.B) {
	ms := benchTree()
	b.Run("jsonw", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 256<<10)
		for b.Loop() {
			buf, _ = catalog.AppendModules(buf[:0], ms)
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(ms)
		}
		b.SetBytes(int64(buf.Len()))
	})
}

// benchTree is the benchmark data set's shape: 10 modules × 5 subjects × 10 lessons.
func benchTree() []catalog.Module {
	at := &timefmt.Time{Time: time.Date(2025, 6, 4, 8, 30, 0, 123456000, time.UTC)}
	ms := make([]catalog.Module, 10)
	for i := range ms {
		ms[i] = catalog.Module{ModuleBrief: catalog.ModuleBrief{ID: int32(i + 1), Title: "Модуль программирования", Course: ptr("2"),
			Description: ptr("Описание модуля: основы алгоритмов и структур данных"), CreatedAt: at}}
		for j := range 5 {
			s := catalog.Subject{ID: int32(i*5 + j), Title: "Алгоритмы и структуры данных", ModuleID: int32(i + 1), TeacherID: ptr(int32(3))}
			for k := range 10 {
				s.Lessons = append(s.Lessons, catalog.Lesson{ID: int32(i*50 + j*10 + k), Title: "Лекция: сортировка слиянием",
					Description: ptr("Разбор алгоритма и домашнее задание"), Type: "video",
					ContentURL: "https://storage.example.com/lessons/lecture.mp4", SubjectID: s.ID, CreatedAt: at})
			}
			ms[i].Subjects = append(ms[i].Subjects, s)
		}
	}
	return ms
}

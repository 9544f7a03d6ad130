package groups_test

import (
	"fmt"
	"testing"

	"platform/internal/apitest"
	"platform/internal/auth"
)

// Issue 23: with two imports on record, each id reads back its own job, not
// whichever was started last (one job alone cannot tell the two apart).
func TestImportJobsReadBackByID(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.User(t, auth.Admin)
	files := []struct {
		name string
		data []byte
	}{
		{"первый.xlsx", xlsx(t, []any{"Группа", "ИИН", "ФИО"}, []any{"ИС-41", "111111111111", "Первый"})},
		{"второй.xlsx", xlsx(t, []any{"Группа", "ИИН", "ФИО"}, []any{"ИС-42", "222222222222", "Второй"},
			[]any{"ИС-42", "222222222223", "Третий"})},
	}
	// Both at once: two jobs in flight, as two admins would start them.
	bodies := make([]map[string]any, len(files))
	t.Run("upload", func(t *testing.T) {
		for i, f := range files {
			t.Run(f.name, func(t *testing.T) {
				t.Parallel()
				bodies[i] = upload(t, env, importPath, admin, "file", f.name, f.data).Status(t, 200).Map(t)
			})
		}
	})
	if t.Failed() {
		return
	}
	ids := map[string]bool{}
	for i, f := range files {
		body := bodies[i]
		delete(body, "credentials") // shown once, in the upload's answer only
		id := fmt.Sprint(body["import_id"])
		ids[id] = true
		job := env.Do(t, "GET", "/admin/groups/imports/"+id, admin, nil).Status(t, 200).Map(t)
		if fmt.Sprint(job["id"]) != id || job["status"] != "done" || job["file_name"] != f.name ||
			job["rows"] != float64(i+1) || !equalJSON(job["result"], body) {
			t.Errorf("import %s (%s) read back as %v\nits upload answered %v", id, f.name, job, body)
		}
	}
	if len(ids) != 2 {
		t.Errorf("the two uploads got import ids %v, want two distinct", ids)
	}
}

package lessons_test

import (
	"fmt"
	"testing"
)

// Issue 21.5: an .xlsx sheet holds at most 16,384 columns, so a subject
// with more lessons than fit is a clear 400 that points to the CSV (which
// has no such limit), not a 500 from the workbook writer.
func TestGradebookXLSXColumnLimit(t *testing.T) {
	t.Parallel()
	f := setup(t)
	// The sheet has 6 columns besides the lessons: 16,378 lessons fit.
	f.env.Exec(t, `INSERT INTO lessons (subject_id, title, type, content_url)
		SELECT $1, 'L' || g, 'video', '' FROM generate_series(1, 16378) g`, f.otherSubjectID)
	path := fmt.Sprintf("/lessons/subjects/%d/gradebook", f.otherSubjectID)
	f.env.Do(t, "GET", path, f.other, nil).Status(t, 200)
	f.env.Exec(t, `INSERT INTO lessons (subject_id, title, type, content_url) VALUES ($1, 'one too many', 'video', '')`, f.otherSubjectID)
	f.env.Do(t, "GET", path, f.other, nil).Error(t, 400,
		"В журнале 16379 уроков, а лист .xlsx вмещает не больше 16378: выгрузите журнал в CSV (?format=csv)")
	f.env.Do(t, "GET", path+"?format=csv", f.other, nil).Status(t, 200)
}

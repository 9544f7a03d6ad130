// Package lessons serves /lessons (API.md §8): lessons and their documents,
// homework submissions and their grading, and the test results of a lesson.
// The student's grade summary under the same prefix lives in package grades.
package lessons

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

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

// Handler serves /lessons.
type Handler struct {
	pool  *db.Pool
	store storage.Store
	// maxSubmissions caps one student's submissions to one lesson (a
	// comment-only submission costs no upload, so without a cap one student
	// could add rows until every list of the lesson exhausts memory).
	maxSubmissions int
	// jobs queues deleted rows' file removals in the delete's transaction
	// (nil: removed after the commit, best effort).
	jobs *jobs.Engine
}

// UseJobs queues deleted rows' file removals as jobs of e.
func (h *Handler) UseJobs(e *jobs.Engine) *Handler { h.jobs = e; return h }

// NewHandler returns the /lessons handler; maxSubmissions is the
// per-student, per-lesson cap on homework submissions.
func NewHandler(pool *db.Pool, store storage.Store, maxSubmissions int) *Handler {
	return &Handler{pool: pool, store: store, maxSubmissions: maxSubmissions}
}

// create is POST /lessons/add/subjects/{subject_id}.
func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	subjectID, pathErr := web.PathID(r, "subject_id")
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	var in newLesson
	o := b.Root().Object()
	in.Title = o.Field("title").StrMax(100)
	in.Type = o.Field("type").StrMax(20)
	// Free text, stored as sent (API.md §8): a link, an uploaded document's
	// /static/lesson_docs/… URL, "test", a link without a scheme. Only the
	// exact canonical form of an upload ever names a file (purge).
	in.ContentURL = o.Field("content_url").StrMax(web.MaxContentURL)
	in.Description = o.Field("description").OptStrMax(web.MaxLessonDescription)
	in.TestID, _ = o.Field("test_id").OptInt()
	in.Deadlines, _, _ = readDeadlines(b, o)
	if err := apperr.JoinInvalid(pathErr, b.Err()); err != nil {
		return err
	}

	subject, err := policy.LoadSubject(ctx, h.pool, subjectID)
	if err := policy.RequireManage(u, subject, err, "Предмет не найден", "Нет доступа к предмету"); err != nil {
		return err
	}
	// test_id counts only for test lessons (as the original); the test is
	// checked and locked before the lesson exists, so a bad id leaves nothing behind.
	attach := in.Type == testLessonType && in.TestID != nil
	var lesson catalog.Lesson
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		repo := NewRepo(tx)
		if attach {
			testSubject, err := repo.LockTestSubject(ctx, *in.TestID)
			if err != nil {
				return err
			}
			if testSubject != subjectID {
				return apperr.BadRequest("Тест относится к другому предмету")
			}
		}
		if lesson, err = repo.InsertLesson(ctx, subjectID, in); err != nil {
			return err
		}
		if attach {
			return repo.AttachTest(ctx, *in.TestID, lesson.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return web.OK(w, lesson)
}

// get is GET /lessons/{lesson_id}.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, err := web.PathID(r, "lesson_id")
	if err != nil {
		return err
	}
	lesson, err := NewRepo(h.pool).Lesson(ctx, u.ID, id, u.Role == auth.Student)
	if errors.Is(err, errNoLesson) {
		return apperr.NotFound("Урок не найден или доступ запрещён")
	}
	if err != nil {
		return err
	}
	return web.OK(w, lesson)
}

// delete is DELETE /lessons/{lesson_id}: the §0.8 lesson cascade in one
// transaction, files removed only after the commit.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, err := web.PathID(r, "lesson_id")
	if err != nil {
		return err
	}
	err = jobs.PurgeTx(ctx, h.pool, h.store, h.jobs, func(tx pgx.Tx) (purge.Files, error) {
		if err := requireManageLesson(ctx, tx, u, id); err != nil {
			return purge.Files{}, err
		}
		return purge.Lessons(ctx, tx, []int32{id})
	})
	if err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: "Урок успешно удалён"})
}

// The lesson document upload (API.md §0.7, §8).
const (
	lessonFileLimit   = 50 * storage.MiB
	lessonFileTooBig  = "Файл слишком большой (до 50 МБ)"
	lessonFileField   = "file"
	expectedFileError = "Expected UploadFile, received: <class 'str'>"
)

// lessonFileTypes is the lesson document allowlist.
var lessonFileTypes = []string{".pdf", ".doc", ".docx", ".ppt", ".pptx", ".xls", ".xlsx", ".csv", ".txt",
	".png", ".jpg", ".jpeg", ".webp", ".gif", ".mp4", ".webm", ".mov", ".mp3", ".zip"}

// uploadFile is POST /lessons/upload/lesson-file. The file streams to disk
// as it arrives; memory does not grow with its size.
func (h *Handler) uploadFile(w http.ResponseWriter, r *http.Request) error {
	up, err := storage.NewUpload(r, lessonFileLimit, lessonFileTooBig)
	if err != nil {
		return err
	}
	var saved, notFile string
	for {
		p, err := up.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			switch {
			case p.FormName() != lessonFileField || saved != "":
				err = up.Drain(p)
			case !p.IsFile():
				notFile, err = up.Value(p)
			default:
				saved, err = h.saveLessonFile(up, p)
			}
		}
		if err != nil {
			h.store.Remove(detached(r), saved)
			return err
		}
	}
	if saved == "" {
		loc := []any{"body", lessonFileField}
		if notFile != "" {
			return apperr.Invalid(apperr.ValueError(loc, notFile, expectedFileError))
		}
		return apperr.Invalid(apperr.Missing(loc, nil))
	}
	return web.OK(w, fileURL{URL: "/" + storage.Stored(saved)})
}

// saveLessonFile checks the part's extension and streams it to lesson_docs/.
func (h *Handler) saveLessonFile(up *storage.Upload, p storage.Part) (string, error) {
	ext, err := storage.Extension(p.ClientName())
	if err != nil {
		return "", err
	}
	if err := storage.CheckAllowed(ext, lessonFileTypes...); err != nil {
		return "", err
	}
	rel := storage.LessonDocsDir + "/" + storage.NewName(ext)
	if _, err := up.Save(h.store, p, rel, lessonFileLimit); err != nil {
		return "", err
	}
	return rel, nil
}

// detached is the request's context for cleanup after a failure: removal
// must run even when the client has gone (the store only logs with it).
func detached(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }

// notBlank reports whether a comment has something besides whitespace.
func notBlank(s *string) bool { return s != nil && strings.TrimSpace(*s) != "" }

package lessons

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/db"
	"platform/internal/jobs"
	"platform/internal/policy"
	"platform/internal/purge"
	"platform/internal/storage"
	"platform/internal/web"
)

// The homework upload (API.md §0.7, §8).
const (
	homeworkLimit    = 20 * storage.MiB // all files together
	homeworkMaxFiles = 5
	homeworkTooBig   = "Суммарный размер файлов превышает 20 МБ"
)

// homework is what a submit-homework body carried: the files written (paths
// under the static root, in upload order) and the comment.
type homework struct {
	files   []string
	comment *string
}

// submitHomework is POST /lessons/{lesson_id}/submit-homework. The lesson
// and the caller's access are checked before the body is read; files stream
// to disk within the 20 MiB budget; the rows are committed once every file
// is in place, and every file written is removed if anything fails (unless
// the commit's outcome is unknown).
func (h *Handler) submitHomework(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	lessonID, err := web.PathID(r, "lesson_id")
	if err != nil {
		return err
	}
	if err := h.requireRead(ctx, u, lessonID); err != nil {
		return err
	}
	// The cap is checked before the body is read (no upload is wasted) and
	// again in the transaction, under a lock, so parallel submits cannot pass it.
	if err := h.checkSubmissionCap(ctx, NewRepo(h.pool), lessonID, u.ID); err != nil {
		return err
	}
	// The cut-off too (issue 24): refused before any upload, and decided
	// again in the transaction that writes the row.
	if _, err := checkCutoff(ctx, NewRepo(h.pool), lessonID, u.ID); err != nil {
		return err
	}
	hw, err := h.receiveHomework(r, lessonID, u.ID)
	if apperr.Is(err, apperr.KindInternal) && h.lessonGone(ctx, lessonID) {
		// Deleting the lesson meanwhile removed its homework folder under the
		// files being written: that is the lesson's 404, not a disk failure.
		err = apperr.NotFound("Урок не найден")
	}
	if err == nil && len(hw.files) == 0 && !notBlank(hw.comment) {
		err = apperr.BadRequest("Добавьте файл или комментарий")
	}
	if err == nil {
		stored := make([]string, len(hw.files))
		for i, rel := range hw.files {
			stored[i] = storage.Stored(rel)
		}
		err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
			repo := NewRepo(tx)
			if err := repo.LockSubmissions(ctx, lessonID, u.ID); err != nil {
				return err
			}
			if err := h.checkSubmissionCap(ctx, repo, lessonID, u.ID); err != nil {
				return err
			}
			late, err := checkCutoff(ctx, repo, lessonID, u.ID)
			if err != nil {
				return err
			}
			_, err = repo.InsertSubmission(ctx, lessonID, u.ID, hw.comment, stored, late)
			return err
		})
	}
	if err != nil {
		// A lost COMMIT acknowledgement may hide committed rows: their files
		// stay, and the orphan reconciler removes them if the rows are absent.
		if !db.CommitUnknown(err) {
			h.store.Remove(detached(r), hw.files...)
		}
		return err
	}
	return web.OK(w, uploaded{Detail: "Файлы успешно загружены", Count: len(hw.files)})
}

// checkSubmissionCap refuses a submission beyond the per-student,
// per-lesson cap with 400 (README, "Limits").
func (h *Handler) checkSubmissionCap(ctx context.Context, repo *Repo, lessonID, userID int32) error {
	n, err := repo.CountSubmissions(ctx, lessonID, userID)
	if err != nil {
		return err
	}
	if n >= h.maxSubmissions {
		return apperr.BadRequest(fmt.Sprintf("Можно отправить не более %d работ к одному уроку", h.maxSubmissions))
	}
	return nil
}

// requireRead checks §0.6 "read lesson" for the homework upload.
func (h *Handler) requireRead(ctx context.Context, u auth.User, lessonID int32) error {
	subject, err := policy.LessonSubject(ctx, h.pool, lessonID)
	if errors.Is(err, policy.ErrNotFound) {
		return apperr.NotFound("Урок не найден")
	}
	if err != nil {
		return err
	}
	ok, err := policy.CanReadSubject(ctx, h.pool, u, subject)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Forbidden("Нет доступа к уроку")
	}
	return nil
}

// lessonGone reports whether the lesson no longer exists (false when that
// cannot be told: the original error then stands).
func (h *Handler) lessonGone(ctx context.Context, lessonID int32) bool {
	_, err := policy.LessonSubject(ctx, h.pool, lessonID)
	return errors.Is(err, policy.ErrNotFound)
}

// receiveHomework streams the multipart body, checking in stream order: the
// file name, the file count, the total size. It returns the files written
// so far even when it fails, for the caller to remove.
func (h *Handler) receiveHomework(r *http.Request, lessonID, userID int32) (homework, error) {
	var hw homework
	up, err := storage.NewUpload(r, homeworkLimit, homeworkTooBig)
	if err != nil {
		return hw, err
	}
	budget := int64(homeworkLimit)
	for {
		p, err := up.Next()
		if err == io.EOF {
			return hw, nil
		}
		if err != nil {
			return hw, err
		}
		switch {
		case p.FormName() == "files" && p.IsFile():
			var rel string
			var n int64
			rel, n, err = h.saveHomeworkFile(up, p, len(hw.files), budget, lessonID, userID)
			if rel != "" {
				hw.files = append(hw.files, rel)
				budget -= n
			}
		case p.FormName() == "comment" && !p.IsFile():
			var c string
			if c, err = up.Value(p); err == nil {
				c, err = formText(c, "comment")
			}
			if err == nil {
				err = web.TooLong([]any{"body", "comment"}, c, web.MaxComment)
			}
			hw.comment = &c
		default:
			err = up.Drain(p)
		}
		if err != nil {
			return hw, err
		}
	}
}

// formText is a text field's value as Starlette's form parser reads it:
// UTF-8, or Latin-1 when the bytes are not valid UTF-8 (so they can be
// stored). NUL, which PostgreSQL text cannot hold, is refused with a 422 as
// in JSON bodies, instead of failing in the database with a 500.
func formText(raw, field string) (string, error) {
	s := raw
	if !utf8.ValidString(raw) {
		latin1 := make([]rune, len(raw))
		for i := range len(raw) {
			latin1[i] = rune(raw[i])
		}
		s = string(latin1)
	}
	if strings.ContainsRune(s, 0) {
		return "", apperr.Invalid(apperr.ValueError([]any{"body", field}, s, web.NULRefused))
	}
	return s, nil
}

// saveHomeworkFile stores one file part; rel is "" when the part is an
// untouched file input (no name, no content), which is ignored.
func (h *Handler) saveHomeworkFile(up *storage.Upload, p storage.Part, count int, budget int64, lessonID, userID int32) (rel string, n int64, err error) {
	name := p.ClientName()
	ext, err := storage.Extension(name)
	if err != nil {
		return "", 0, err
	}
	// Look at one byte to tell an untouched file input (no name, no content) from a file.
	head, src, err := up.Peek(p, 1)
	if err != nil {
		return "", 0, err
	}
	if name == "" && len(head) == 0 {
		return "", 0, nil
	}
	if count == homeworkMaxFiles {
		return "", 0, apperr.BadRequest("Можно приложить не более 5 файлов")
	}
	rel = fmt.Sprintf("%s/lesson_%d/%d_%s", storage.HomeworkDir, lessonID, userID, storage.NewName(ext))
	n, err = up.SaveReader(h.store, src, rel, budget)
	if err != nil {
		return "", n, err
	}
	return rel, n, nil
}

// mySubmissions is GET /lessons/{lesson_id}/my-submissions: the caller's
// own rows only, so no lesson check (an unknown lesson gives []).
func (h *Handler) mySubmissions(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	lessonID, pathErr := web.PathID(r, "lesson_id")
	page, pageErr := web.ParsePage(r)
	if err := apperr.JoinInvalid(pathErr, pageErr); err != nil {
		return err
	}
	return web.Stream(w, r, func(yield func(Submission) error) error {
		return NewRepo(h.pool).MySubmissions(ctx, lessonID, u.ID, page, yield)
	})
}

// lessonSubmissions is GET /lessons/{lesson_id}/submissions/files.
func (h *Handler) lessonSubmissions(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	page, pageErr := web.ParsePage(r)
	if pageErr != nil {
		_, pathErr := web.PathID(r, "lesson_id")
		return apperr.JoinInvalid(pathErr, pageErr)
	}
	lessonID, err := h.requireReview(r)
	if err != nil {
		return err
	}
	search := queryValue(r.URL.RawQuery, "search")
	return web.Stream(w, r, func(yield func(Submission) error) error {
		return NewRepo(h.pool).LessonSubmissions(ctx, lessonID, search, page, yield)
	})
}

// queryValue is a query parameter as FastAPI reads it (Starlette's
// parse_qsl): the last of repeated values counts, pairs split on "&", "+" is
// a space, a "%" that starts no valid escape stays literal and bytes that
// are not UTF-8 become U+FFFD. net/url keeps the first value instead, and
// drops a pair with a bad escape, turning a filter into none.
func queryValue(rawQuery, name string) string {
	var value string
	for _, pair := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if pair != "" && unquote(k) == name {
			value = unquote(v)
		}
	}
	return value
}

// unquote decodes one query component leniently (urllib's unquote_plus).
func unquote(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s):
			if v, err := hex.DecodeString(s[i+1 : i+3]); err == nil {
				b = append(b, v[0])
				i += 2
				continue
			}
			b = append(b, c)
		default:
			b = append(b, c)
		}
	}
	return string([]rune(string(b))) // each invalid byte → U+FFFD
}

// requireReview reads the lesson id and applies the checks of the teacher's
// lists in the original's order (API.md §8): lesson exists, then a student
// is refused, then a teacher must teach the subject. Net effect: manage subject.
func (h *Handler) requireReview(r *http.Request) (int32, error) {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	lessonID, err := web.PathID(r, "lesson_id")
	if err != nil {
		return 0, err
	}
	subject, err := policy.LessonSubject(ctx, h.pool, lessonID)
	denied := "Нет доступа к уроку"
	if u.Role == auth.Student { // who manages nothing, with the role's text
		denied = "Недостаточно прав"
	}
	if err := policy.RequireManage(u, subject, err, "Урок не найден", denied); err != nil {
		return 0, err
	}
	return lessonID, nil
}

// deleteSubmission is DELETE /lessons/submission/{submission_id}: the owner
// or an admin; the files go after the commit.
func (h *Handler) deleteSubmission(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	id, err := web.PathID(r, "submission_id")
	if err != nil {
		return err
	}
	err = jobs.PurgeTx(ctx, h.pool, h.store, h.jobs, func(tx pgx.Tx) (purge.Files, error) {
		repo := NewRepo(tx)
		owner, err := repo.LockSubmissionOwner(ctx, id)
		if err != nil {
			return purge.Files{}, err
		}
		if u.Role != auth.Admin && (owner == nil || *owner != u.ID) {
			return purge.Files{}, apperr.Forbidden("Недостаточно прав")
		}
		// A graded submission's grade goes with it: recorded (issue 24).
		grade, err := repo.lockGrade(ctx, id)
		if err != nil {
			return purge.Files{}, err
		}
		if grade != nil {
			if err := repo.recordHomework(ctx, id, u, grade, nil, endpointDeleteSubmission); err != nil {
				return purge.Files{}, err
			}
		}
		return purge.Submissions(ctx, tx, []int32{id})
	})
	if err != nil {
		return err
	}
	return web.OK(w, web.Detail{Detail: "Работа удалена"})
}

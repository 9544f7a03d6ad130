package quiz

import (
	"context"
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/policy"
	"platform/internal/web"
)

// create is POST /tests/create: the test, its questions and options in one
// transaction. The subject is subject_id, or else the lesson's subject.
func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	d := readDraft(b, true)
	if err := b.Err(); err != nil {
		return err
	}
	var out Test
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		repo := NewRepo(tx)
		var err error
		var subject, lessonSubject *policy.Subject
		if d.SubjectID != nil {
			if subject, err = load(ctx, repo.subject, *d.SubjectID, msgSubjectNotFound); err != nil {
				return err
			}
		}
		if d.LessonID != nil {
			if lessonSubject, err = load(ctx, repo.lessonSubject, *d.LessonID, msgLessonNotFound); err != nil {
				return err
			}
		}
		if subject == nil {
			subject = lessonSubject
		}
		if err := placeable(u, *subject, lessonSubject); err != nil {
			return err
		}
		// A lesson that already has a test trips tests_lesson_id_key here,
		// also when a concurrent request linked it a moment ago.
		out, err = repo.insertTest(ctx, d.Title, subject.ID, d.LessonID)
		if err != nil {
			return dbRefusal(err)
		}
		return repo.insertQuestions(ctx, out.ID, d.Questions)
	})
	if err != nil {
		return err
	}
	return web.OK(w, out)
}

// update is PUT /tests/{test_id}: title and questions replaced, subject
// changed when subject_id is set, lesson link changed when the lesson_id key
// is present. One transaction: any failure keeps the old test whole.
func (h *Handler) update(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "test_id")
	if err := addInvalid(b, err); err != nil {
		return err
	}
	d := readDraft(b, false)
	if err := b.Err(); err != nil {
		return err
	}
	var out Test
	err = h.pool.WithTx(ctx, func(tx pgx.Tx) error {
		repo := NewRepo(tx)
		t, err := repo.test(ctx, id, true)
		if errors.Is(err, errNotFound) {
			return apperr.NotFound(msgTestNotFound)
		}
		if err != nil {
			return err
		}
		current := t.subject()
		subject := &current
		if d.SubjectID != nil && *d.SubjectID != current.ID {
			if subject, err = load(ctx, repo.subject, *d.SubjectID, msgSubjectNotFound); err != nil {
				return err
			}
		}
		lessonID := t.LessonID
		if d.LessonSet {
			lessonID = d.LessonID
		}
		var lessonSubject *policy.Subject
		if lessonID != nil {
			if lessonSubject, err = load(ctx, repo.lessonSubject, *lessonID, msgLessonNotFound); err != nil {
				return err
			}
		}
		if !policy.CanManage(u, current) {
			return apperr.Forbidden(msgNoAccess)
		}
		if err := placeable(u, *subject, lessonSubject); err != nil {
			return err
		}
		// Old questions go first: every later failure (the lesson's unique
		// key included) rolls this delete back with the rest.
		if err := repo.deleteQuestions(ctx, id); err != nil {
			return err
		}
		out, err = repo.updateTest(ctx, id, d.Title, subject.ID, lessonID)
		if err != nil {
			return dbRefusal(err)
		}
		return repo.insertQuestions(ctx, id, d.Questions)
	})
	if err != nil {
		return err
	}
	return web.OK(w, out)
}

// load runs a subject lookup, answering 404 with the text when the row is missing.
func load(ctx context.Context, find func(context.Context, int32) (policy.Subject, error), id int32, missing string) (*policy.Subject, error) {
	s, err := find(ctx, id)
	if errors.Is(err, errNotFound) {
		return nil, apperr.NotFound(missing)
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// placeable checks a test may live in the subject (the caller manages it)
// and, when linked, in the lesson (it belongs to that subject).
func placeable(u auth.User, subject policy.Subject, lessonSubject *policy.Subject) error {
	if !policy.CanManage(u, subject) {
		return apperr.Forbidden(msgNoAccess)
	}
	if lessonSubject != nil && lessonSubject.ID != subject.ID {
		return apperr.BadRequest(msgLessonElsewhere)
	}
	return nil
}

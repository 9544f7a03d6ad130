package lessons

import (
	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes adds /lessons (API.md §8). Object-level rules (read lesson, manage
// subject, owner) are checked in the handlers.
func (h *Handler) Routes(r chi.Router, g auth.Guards) {
	r.With(g.Authn).Get("/{lesson_id}", web.Handle(h.get))
	r.With(g.Authn).Post("/{lesson_id}/submit-homework", web.Handle(h.submitHomework))
	r.With(g.Authn).Get("/{lesson_id}/my-submissions", web.Handle(h.mySubmissions))
	r.With(g.Authn).Get("/{lesson_id}/submissions/files", web.Handle(h.lessonSubmissions))
	r.With(g.Authn).Get("/{lesson_id}/submissions/tests", web.Handle(h.lessonResults))
	r.With(g.Authn).Delete("/submission/{submission_id}", web.Handle(h.deleteSubmission))

	r.With(g.Teacher).Post("/add/subjects/{subject_id}", web.Handle(h.create))
	r.With(g.Teacher).Delete("/{lesson_id}", web.Handle(h.delete))
	r.With(g.Teacher).Post("/upload/lesson-file", web.Handle(h.uploadFile))
	r.With(g.Teacher).Patch("/submission/{submission_id}/grade", web.Handle(h.grade))
	r.With(g.Teacher).Delete("/result/{result_id}", web.Handle(h.deleteResult))
	r.With(g.Teacher).Get("/subjects/{subject_id}/gradebook", web.Handle(h.gradebook))

	// Beyond the original (issue 24): deadlines, extensions, grade history.
	r.With(g.Teacher).Patch("/{lesson_id}/deadlines", web.Handle(h.setDeadlines))
	r.With(g.Teacher).Get("/{lesson_id}/extensions", web.Handle(h.listExtensions))
	r.With(g.Teacher).Put("/{lesson_id}/extensions/{user_id}", web.Handle(h.putExtension))
	r.With(g.Teacher).Delete("/{lesson_id}/extensions/{user_id}", web.Handle(h.deleteExtension))
	r.With(g.Teacher).Delete("/submission/{submission_id}/grade", web.Handle(h.clearGrade))
	r.With(g.Authn).Get("/submission/{submission_id}/history", web.Handle(h.history))
	r.With(g.Teacher).Get("/{lesson_id}/history", web.Handle(h.lessonHistory))
}

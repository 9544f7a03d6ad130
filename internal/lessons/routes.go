package lessons

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"platform/internal/auth"
	"platform/internal/web"
)

// Routes registers the /lessons endpoints (API.md §8) on r, the router
// mounted at /lessons; authn is the Authenticate middleware. Object-level
// rules (read lesson, manage subject, owner) are checked in the handlers.
// Guards are attached per group rather than with r.Use so unknown paths
// under /lessons stay a plain 404.
func (h *Handler) Routes(r chi.Router, authn func(http.Handler) http.Handler) {
	r.Group(func(r chi.Router) {
		r.Use(authn) // auth
		r.Get("/{lesson_id}", web.Handle(h.get))
		r.Post("/{lesson_id}/submit-homework", web.Handle(h.submitHomework))
		r.Get("/{lesson_id}/my-submissions", web.Handle(h.mySubmissions))
		r.Get("/{lesson_id}/submissions/files", web.Handle(h.lessonSubmissions))
		r.Get("/{lesson_id}/submissions/tests", web.Handle(h.lessonResults))
		r.Delete("/submission/{submission_id}", web.Handle(h.deleteSubmission))

		r.Group(func(r chi.Router) {
			r.Use(auth.TeacherOrAdmin) // teacher
			r.Post("/add/subjects/{subject_id}", web.Handle(h.create))
			r.Delete("/{lesson_id}", web.Handle(h.delete))
			r.Post("/upload/lesson-file", web.Handle(h.uploadFile))
			r.Patch("/submission/{submission_id}/grade", web.Handle(h.grade))
			r.Delete("/result/{result_id}", web.Handle(h.deleteResult))
			// Issue 15: gradebook export (teacher of the subject or admin).
			r.Get("/subjects/{subject_id}/gradebook", web.Handle(h.gradebook))
		})
	})
}

package quiz

import (
	"net/http"
	"strconv"

	"platform/internal/apperr"
	"platform/internal/auth"
	"platform/internal/web"
)

// submit is POST /tests/submit: a student takes a test once. Errors come in
// the original's order (API.md §9). Four queries: test, access, questions,
// insert; the one-result rule is the database's (uq_results_user_test), so
// concurrent submits yield one result and one 400.
func (h *Handler) submit(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), auth.MustUser(r.Context())
	b, err := web.ReadJSON(r)
	if err != nil {
		return err
	}
	testID, answers := readSubmit(b)
	if err := b.Err(); err != nil {
		return err
	}
	if len(answers) == 0 {
		return apperr.BadRequest(msgNoAnswers)
	}
	if testID == nil {
		return apperr.NotFound(msgTestNotFound)
	}
	t, err := h.readable(ctx, u, *testID)
	if err != nil {
		return err
	}
	if t.LessonID == nil {
		return apperr.BadRequest(msgNotLinked)
	}
	qs, err := h.repo.questions(ctx, t.ID)
	if err != nil {
		return err
	}
	if len(qs) == 0 {
		return apperr.BadRequest(msgNoQuestions)
	}
	res, err := h.repo.insertResult(ctx, u.ID, *t.LessonID, t.ID, score(qs, answers))
	if err != nil {
		return dbRefusal(err)
	}
	return web.OK(w, res)
}

// score grades the answers: for each question the first answer naming it
// counts (others, and answers to unknown questions, are ignored), and the
// share of correct ones is rounded as Python's round(x, 2) (API.md §9).
func score(qs []Question, answers []answer) float64 {
	first := make(map[int32]int32, len(answers))
	for _, a := range answers {
		if _, seen := first[a.QuestionID]; !seen {
			first[a.QuestionID] = a.SelectedIndex
		}
	}
	correct := 0
	for _, q := range qs {
		if sel, ok := first[q.ID]; ok && q.CorrectOptionIndex != nil && sel == *q.CorrectOptionIndex {
			correct++
		}
	}
	return round2(float64(correct) / float64(len(qs)) * 100)
}

// round2 is Python's round(x, 2): the exact binary value of x rounded to two
// decimals, ties (exact halves only) to even. strconv formats the exact
// value correctly rounded with the same tie rule, and parsing the decimal
// back gives the nearest double, as Python does.
func round2(x float64) float64 {
	v, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
	if err != nil {
		return x // unreachable: FormatFloat's output always parses
	}
	return v
}

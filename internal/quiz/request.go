package quiz

import (
	"errors"

	"platform/internal/apperr"
	"platform/internal/web"
)

// maxTitle is tests.title's column size (varchar(100)).
const maxTitle = 100

// readDraft reads the create/update body of API.md §9. For create, a body
// naming neither a subject nor a lesson is refused as `missing` at
// body.subject_id, once every field is valid (a model-level rule in Pydantic
// runs only then).
func readDraft(b *web.Body, create bool) draft {
	var d draft
	o := b.Root().Object()
	d.Title = o.Field("title").StrMax(maxTitle)
	d.SubjectID, _ = o.Field("subject_id").OptInt()
	d.LessonID, _ = o.Field("lesson_id").OptInt()
	d.LessonSet = o.Has("lesson_id")
	items, _ := o.Field("questions").List()
	d.Questions = make([]draftQuestion, 0, len(items))
	for _, item := range items {
		d.Questions = append(d.Questions, readQuestion(b, item))
	}
	if create && o.OK() && b.Err() == nil && d.SubjectID == nil && d.LessonID == nil {
		b.Add(apperr.Missing([]any{"body", "subject_id"}, b.Root().Raw()))
	}
	return d
}

// readQuestion reads one question and, when its own fields are valid,
// applies the port's rules that keep a question answerable (API.md §9:
// at least one option, unique option_index, the correct index names an option).
func readQuestion(b *web.Body, v web.Value) draftQuestion {
	var q draftQuestion
	o := v.Object()
	qt, textOK := o.Field("question_text").Str()
	textOK = textOK && o.Field("question_text").MaxLen(qt, web.MaxQuestionText)
	correct, correctOK := o.Field("correct_option_index").Int()
	items, optsOK := o.Field("options").List()
	q.Text, q.Correct = qt, correct
	for _, item := range items {
		oo := item.Object()
		ot, ok1 := oo.Field("option_text").Str()
		ok1 = ok1 && oo.Field("option_text").MaxLen(ot, web.MaxOptionText)
		oi, ok2 := oo.Field("option_index").Int()
		optsOK = optsOK && oo.OK() && ok1 && ok2
		q.Options = append(q.Options, draftOption{Text: ot, Index: oi})
	}
	if !o.OK() || !textOK || !correctOK || !optsOK {
		return q
	}
	optsField := o.Field("options")
	if len(q.Options) == 0 {
		b.Add(apperr.ValueError(optsField.Loc(), optsField.Raw(), "у вопроса должен быть хотя бы один вариант ответа"))
		return q
	}
	seen := make(map[int32]bool, len(q.Options))
	for _, opt := range q.Options {
		if seen[opt.Index] {
			b.Add(apperr.ValueError(optsField.Loc(), optsField.Raw(), "значения option_index в вопросе должны быть уникальными"))
			return q
		}
		seen[opt.Index] = true
	}
	if !seen[q.Correct] {
		cf := o.Field("correct_option_index")
		b.Add(apperr.ValueError(cf.Loc(), cf.Raw(), "correct_option_index должен совпадать с option_index одного из вариантов"))
	}
	return q
}

// readSubmit reads the POST /tests/submit body. lesson_id is validated
// (int | null) but ignored, as in the original.
func readSubmit(b *web.Body) (testID *int32, answers []answer) {
	o := b.Root().Object()
	testID, _ = o.Field("test_id").OptInt()
	_, _ = o.Field("lesson_id").OptInt()
	items, _ := o.Field("answers").OptList()
	answers = make([]answer, 0, len(items))
	for _, item := range items {
		ao := item.Object()
		qid, _ := ao.Field("question_id").Int()
		sel, _ := ao.Field("selected_index").Int()
		answers = append(answers, answer{QuestionID: qid, SelectedIndex: sel})
	}
	return testID, answers
}

// addInvalid merges a path parameter's 422 into the body's issues, so one
// response lists both as FastAPI does (path first); other errors pass through.
func addInvalid(b *web.Body, err error) error {
	var v *apperr.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	for _, is := range v.Issues {
		b.Add(is)
	}
	return nil
}

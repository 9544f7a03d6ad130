package quiz

import (
	"platform/internal/catalog"
)

// The contract's texts (API.md §9, §0.6).
const (
	msgTestNotFound    = "Тест не найден"
	msgSubjectNotFound = "Предмет не найден"
	msgLessonNotFound  = "Урок не найден"
	msgNoAccess        = "Нет доступа к предмету"
	msgLessonElsewhere = "Урок относится к другому предмету"
	msgLessonTaken     = "К этому уроку уже привязан тест"
	msgNoAnswers       = "Нет ответов на тест"
	msgNotLinked       = "Тест не привязан к уроку"
	msgNoQuestions     = "У теста нет вопросов"
	msgAlreadyTaken    = "Вы уже проходили этот тест"
	msgUserGone        = "Пользователь не найден"
)

// Constraint names the writes can trip (SCHEMA.md).
const (
	uqTestLesson     = "tests_lesson_id_key"
	fkTestLesson     = "tests_lesson_id_fkey"
	fkTestSubject    = "tests_subject_id_fkey"
	uqResultUserTest = "uq_results_user_test"
	fkResultTest     = "results_test_id_fkey"
	fkResultLesson   = "results_lesson_id_fkey"
	fkResultUser     = "results_user_id_fkey"
)

// Test is the "Test" shape of API.md §0.11.
type Test struct {
	ID        int32  `json:"id" db:"id"`
	Title     string `json:"title" db:"title"`
	SubjectID int32  `json:"subject_id" db:"subject_id"`
	LessonID  *int32 `json:"lesson_id" db:"lesson_id"`
}

// Full is the "TestFull" shape: the test with its questions and the
// caller's result (null when none).
type Full struct {
	Test
	Questions []Question      `json:"questions"`
	Result    *catalog.Result `json:"result"`
}

// Question is a question of TestFull. CorrectOptionIndex is null for
// students: the answers never leave the server for them.
type Question struct {
	ID                 int32    `json:"id" db:"id"`
	QuestionText       string   `json:"question_text" db:"question_text"`
	CorrectOptionIndex *int32   `json:"correct_option_index" db:"correct_option_index"`
	Options            []Option `json:"options" db:"-"`
}

// Option is an answer option of a question.
type Option struct {
	ID          int32  `json:"id" db:"id"`
	QuestionID  int32  `json:"-" db:"question_id"`
	OptionText  string `json:"option_text" db:"option_text"`
	OptionIndex int32  `json:"option_index" db:"option_index"`
}

// testRow is a test with what the access rules need about its subject.
type testRow struct {
	Test
	ModuleID  int32  `db:"module_id"`
	TeacherID *int32 `db:"teacher_id"`
}

// draft is the create/update body after validation.
type draft struct {
	Title     string
	SubjectID *int32
	LessonID  *int32
	// LessonSet tells PUT whether the lesson_id key was sent: absent keeps
	// the link, null removes it (API.md §9 PUT).
	LessonSet bool
	Questions []draftQuestion
}

type draftQuestion struct {
	Text    string
	Correct int32
	Options []draftOption
}

type draftOption struct {
	Text  string
	Index int32
}

// answer is one item of a submit body.
type answer struct {
	QuestionID    int32
	SelectedIndex int32
}

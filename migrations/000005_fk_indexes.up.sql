-- SCHEMA.md §2.4: the original indexed only primary keys. Index the foreign-key
-- columns for joins and for cascading deletes. IF NOT EXISTS because an operator
-- may already have added some of them by hand on the original's database.

CREATE INDEX IF NOT EXISTS ix_subjects_module_id ON subjects (module_id);
CREATE INDEX IF NOT EXISTS ix_subjects_teacher_id ON subjects (teacher_id);
CREATE INDEX IF NOT EXISTS ix_lessons_subject_id ON lessons (subject_id);
CREATE INDEX IF NOT EXISTS ix_lesson_submissions_lesson_id ON lesson_submissions (lesson_id);
CREATE INDEX IF NOT EXISTS ix_lesson_submissions_user_id ON lesson_submissions (user_id);
CREATE INDEX IF NOT EXISTS ix_submission_files_submission_id ON submission_files (submission_id);
CREATE INDEX IF NOT EXISTS ix_tests_subject_id ON tests (subject_id);
CREATE INDEX IF NOT EXISTS ix_questions_test_id ON questions (test_id);
CREATE INDEX IF NOT EXISTS ix_options_question_id ON options (question_id);
CREATE INDEX IF NOT EXISTS ix_results_lesson_id ON results (lesson_id);
CREATE INDEX IF NOT EXISTS ix_results_test_id ON results (test_id);
CREATE INDEX IF NOT EXISTS ix_user_group_group_id ON user_group (group_id);
CREATE INDEX IF NOT EXISTS ix_module_group_group_id ON module_group (group_id);
CREATE INDEX IF NOT EXISTS ix_teacher_module_teacher_id ON teacher_module (teacher_id);

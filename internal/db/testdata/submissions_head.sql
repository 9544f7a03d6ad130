-- Homework at Alembic head: files live in submission_files.
INSERT INTO lesson_submissions (lesson_id, user_id, comment, grade, submitted_at) VALUES
	(1, 3, 'Готово', 90, '2024-02-05 12:00:00'),
	(1, 4, NULL, NULL, '2024-02-05 13:00:00'),
	(2, 3, '', NULL, '2024-02-06 12:00:00');

INSERT INTO submission_files (submission_id, file_path) VALUES
	(1, 'static/homework/lesson_1/a.pdf'),
	(2, 'static/homework/lesson_1/b.docx'),
	(3, 'static/homework/lesson_2/c.png');

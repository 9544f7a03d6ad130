-- Homework at Alembic 33732b012934 (and in a create_all-built database): the
-- file path is a column of lesson_submissions.
INSERT INTO lesson_submissions (lesson_id, user_id, file_path, comment, grade, submitted_at) VALUES
	(1, 3, 'static/homework/lesson_1/a.pdf', 'Готово', 90, '2024-02-05 12:00:00'),
	(1, 4, 'static/homework/lesson_1/b.docx', NULL, NULL, '2024-02-05 13:00:00'),
	(2, 3, 'static/homework/lesson_2/c.png', '', NULL, '2024-02-06 12:00:00');

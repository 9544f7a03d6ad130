-- Rows in every table of the original except the submissions, whose shape
-- differs between revisions (submissions_*.sql). Ids come from the SERIAL
-- sequences (1, 2, ... on a fresh database), as the original wrote them, so
-- the sequences are in step with the data after adoption.

INSERT INTO groups (name, description) VALUES
	('ИС-21', 'Информационные системы'),
	('ВТ-22', NULL);

INSERT INTO modules (title, description, course, created_at) VALUES
	('Математика', 'Базовый курс', '1', '2024-01-10 08:00:00'),
	('Физика', NULL, '2', NULL);

INSERT INTO users (full_name, iin, role, phone, hashed_password, photo) VALUES
	('Админ Админов', '000000000001', 'admin', '+77000000001', '$2b$12$abcdefghijklmnopqrstuuM7S8Yq1Qd1H1k0rQyGQ9hZl8s2zJZ7m', NULL),
	('Учитель Учителев', '850101300123', 'teacher', '+77000000002', '$2b$12$abcdefghijklmnopqrstuuM7S8Yq1Qd1H1k0rQyGQ9hZl8s2zJZ7m', 'static/photos/t.jpg'),
	('Студент Первый', '010203400567', 'student', '+77000000003', '$2b$12$abcdefghijklmnopqrstuuM7S8Yq1Qd1H1k0rQyGQ9hZl8s2zJZ7m', NULL),
	-- An Excel import by an older original: IIN lost its leading zeros.
	('Студент Второй', '12345', 'student', NULL, '$2b$12$abcdefghijklmnopqrstuuM7S8Yq1Qd1H1k0rQyGQ9hZl8s2zJZ7m', NULL);

INSERT INTO module_group (module_id, group_id) VALUES (1, 1), (2, 1), (1, 2);

INSERT INTO subjects (module_id, teacher_id, title) VALUES
	(1, 2, 'Алгебра'),
	(2, NULL, 'Механика');

INSERT INTO teacher_module (module_id, teacher_id) VALUES (1, 2);

INSERT INTO user_group (user_id, group_id) VALUES (3, 1), (4, 1), (2, 2);

INSERT INTO lessons (subject_id, title, type, description, content_url, created_at) VALUES
	(1, 'Введение', 'Видео', 'Первое занятие', 'https://youtu.be/dQw4w9WgXcQ', '2024-02-01 09:00:00'),
	(1, 'Тест 1', 'Тест', NULL, '/static/lesson_docs/0123456789abcdef0123456789abcdef.pdf', '2024-02-02 09:00:00');

INSERT INTO tests (title, subject_id, lesson_id) VALUES
	('Тест 1', 1, 2),
	('Итоговый', 2, NULL);

INSERT INTO questions (test_id, question_text, correct_option_index) VALUES
	(1, '2+2?', 1),
	(1, '3*3?', 0);

INSERT INTO options (question_id, option_text, option_index) VALUES
	(1, '3', 0), (1, '4', 1),
	(2, '9', 0), (2, '6', 1);

-- Result 3 duplicates (user 3, test 1) — the original's check-then-insert
-- race; migration 3 keeps result 1. Results 4 and 5 share a NULL test_id and
-- must both survive.
INSERT INTO results (user_id, lesson_id, test_id, score, submitted_at) VALUES
	(3, 2, 1, 100, '2024-03-01 10:00:00+00'),
	(4, 2, 1, 50.5, '2024-03-01 10:05:00+00'),
	(3, 2, 1, 0, '2024-03-01 10:06:00+00'),
	(3, NULL, NULL, 75, '2024-03-02 10:00:00+00'),
	(3, NULL, NULL, 80, '2024-03-02 11:00:00+00'),
	(4, NULL, 2, 66.67, '2024-03-03 10:00:00+00');

-- The original's schema at Alembic 33732b012934 ("initial schema"), written the way
-- SQLAlchemy/Alembic emit it: constraint names are left to PostgreSQL's
-- defaults, so adoption tests also check that the baseline migration's
-- explicit names are exactly those defaults. No alembic_version here: tests
-- add the bookkeeping they need.

CREATE TYPE userrole AS ENUM ('student', 'teacher', 'admin');

CREATE TABLE groups (
	id SERIAL NOT NULL,
	name VARCHAR(100) NOT NULL,
	description TEXT,
	PRIMARY KEY (id),
	UNIQUE (name)
);

CREATE TABLE modules (
	id SERIAL NOT NULL,
	title VARCHAR(100) NOT NULL,
	description TEXT,
	course VARCHAR(10),
	created_at TIMESTAMP WITHOUT TIME ZONE,
	PRIMARY KEY (id)
);
CREATE INDEX ix_modules_id ON modules (id);

CREATE TABLE users (
	id SERIAL NOT NULL,
	full_name VARCHAR(255) NOT NULL,
	iin VARCHAR(12) NOT NULL,
	role userrole NOT NULL,
	phone VARCHAR(20),
	hashed_password VARCHAR(255) NOT NULL,
	photo VARCHAR(255),
	PRIMARY KEY (id),
	UNIQUE (phone)
);
CREATE INDEX ix_users_id ON users (id);
CREATE UNIQUE INDEX ix_users_iin ON users (iin);

CREATE TABLE module_group (
	module_id INTEGER NOT NULL,
	group_id INTEGER NOT NULL,
	PRIMARY KEY (module_id, group_id),
	FOREIGN KEY(group_id) REFERENCES groups (id),
	FOREIGN KEY(module_id) REFERENCES modules (id)
);

CREATE TABLE subjects (
	id SERIAL NOT NULL,
	module_id INTEGER NOT NULL,
	teacher_id INTEGER,
	title VARCHAR(100) NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(module_id) REFERENCES modules (id),
	FOREIGN KEY(teacher_id) REFERENCES users (id)
);
CREATE INDEX ix_subjects_id ON subjects (id);

CREATE TABLE teacher_module (
	module_id INTEGER NOT NULL,
	teacher_id INTEGER NOT NULL,
	PRIMARY KEY (module_id, teacher_id),
	FOREIGN KEY(module_id) REFERENCES modules (id),
	FOREIGN KEY(teacher_id) REFERENCES users (id)
);

CREATE TABLE user_group (
	user_id INTEGER NOT NULL,
	group_id INTEGER NOT NULL,
	PRIMARY KEY (user_id, group_id),
	FOREIGN KEY(group_id) REFERENCES groups (id),
	FOREIGN KEY(user_id) REFERENCES users (id)
);

CREATE TABLE lessons (
	id SERIAL NOT NULL,
	subject_id INTEGER NOT NULL,
	title VARCHAR(100) NOT NULL,
	type VARCHAR(20) NOT NULL,
	description TEXT,
	content_url TEXT NOT NULL,
	created_at TIMESTAMP WITHOUT TIME ZONE,
	PRIMARY KEY (id),
	FOREIGN KEY(subject_id) REFERENCES subjects (id)
);
CREATE INDEX ix_lessons_id ON lessons (id);

CREATE TABLE lesson_submissions (
	id SERIAL NOT NULL,
	lesson_id INTEGER,
	user_id INTEGER,
	file_path VARCHAR(512) NOT NULL,
	comment TEXT,
	grade INTEGER,
	submitted_at TIMESTAMP WITHOUT TIME ZONE,
	PRIMARY KEY (id),
	FOREIGN KEY(lesson_id) REFERENCES lessons (id) ON DELETE CASCADE,
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_lesson_submissions_id ON lesson_submissions (id);

CREATE TABLE tests (
	id SERIAL NOT NULL,
	title VARCHAR(100) NOT NULL,
	subject_id INTEGER NOT NULL,
	lesson_id INTEGER,
	PRIMARY KEY (id),
	UNIQUE (lesson_id),
	FOREIGN KEY(lesson_id) REFERENCES lessons (id),
	FOREIGN KEY(subject_id) REFERENCES subjects (id)
);
CREATE INDEX ix_tests_id ON tests (id);

CREATE TABLE questions (
	id SERIAL NOT NULL,
	test_id INTEGER NOT NULL,
	question_text TEXT NOT NULL,
	correct_option_index INTEGER NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(test_id) REFERENCES tests (id)
);
CREATE INDEX ix_questions_id ON questions (id);

CREATE TABLE options (
	id SERIAL NOT NULL,
	question_id INTEGER NOT NULL,
	option_text TEXT NOT NULL,
	option_index INTEGER NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(question_id) REFERENCES questions (id)
);
CREATE INDEX ix_options_id ON options (id);

CREATE TABLE results (
	id SERIAL NOT NULL,
	user_id INTEGER NOT NULL,
	lesson_id INTEGER,
	test_id INTEGER,
	score FLOAT NOT NULL,
	submitted_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
	PRIMARY KEY (id),
	FOREIGN KEY(lesson_id) REFERENCES lessons (id),
	FOREIGN KEY(test_id) REFERENCES tests (id),
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_results_id ON results (id);

-- Baseline: the original application's final schema (Alembic head 7a2a4924f9e5),
-- exactly as SCHEMA.md Part 1 describes it, minus Alembic's own alembic_version.
-- Constraint and index names are PostgreSQL's defaults as SQLAlchemy produced them,
-- spelled out so an adopted database and a fresh one are indistinguishable.
--
-- No BEGIN/COMMIT: golang-migrate's pgx/v5 driver sends the whole file as one
-- simple-protocol Query, which PostgreSQL runs as a single implicit transaction,
-- so the file is atomic. An explicit BEGIN would leave the session in an aborted
-- transaction on failure.

CREATE TYPE userrole AS ENUM ('student', 'teacher', 'admin');

CREATE TABLE groups (
    id          SERIAL       NOT NULL,
    name        VARCHAR(100) NOT NULL,
    description TEXT,
    CONSTRAINT groups_pkey PRIMARY KEY (id),
    CONSTRAINT groups_name_key UNIQUE (name)
);

CREATE TABLE modules (
    id          SERIAL       NOT NULL,
    title       VARCHAR(100) NOT NULL,
    description TEXT,
    course      VARCHAR(10),
    created_at  TIMESTAMP WITHOUT TIME ZONE,
    CONSTRAINT modules_pkey PRIMARY KEY (id)
);
CREATE INDEX ix_modules_id ON modules (id);

CREATE TABLE users (
    id              SERIAL       NOT NULL,
    full_name       VARCHAR(255) NOT NULL,
    iin             VARCHAR(12)  NOT NULL,
    role            userrole     NOT NULL,
    phone           VARCHAR(20),
    hashed_password VARCHAR(255) NOT NULL,
    photo           VARCHAR(255),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_phone_key UNIQUE (phone)
);
CREATE INDEX ix_users_id ON users (id);
CREATE UNIQUE INDEX ix_users_iin ON users (iin);

CREATE TABLE module_group (
    module_id INTEGER NOT NULL,
    group_id  INTEGER NOT NULL,
    CONSTRAINT module_group_pkey PRIMARY KEY (module_id, group_id),
    CONSTRAINT module_group_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id),
    CONSTRAINT module_group_module_id_fkey FOREIGN KEY (module_id) REFERENCES modules (id)
);

CREATE TABLE subjects (
    id         SERIAL       NOT NULL,
    module_id  INTEGER      NOT NULL,
    teacher_id INTEGER,
    title      VARCHAR(100) NOT NULL,
    CONSTRAINT subjects_pkey PRIMARY KEY (id),
    CONSTRAINT subjects_module_id_fkey FOREIGN KEY (module_id) REFERENCES modules (id),
    CONSTRAINT subjects_teacher_id_fkey FOREIGN KEY (teacher_id) REFERENCES users (id)
);
CREATE INDEX ix_subjects_id ON subjects (id);

CREATE TABLE teacher_module (
    module_id  INTEGER NOT NULL,
    teacher_id INTEGER NOT NULL,
    CONSTRAINT teacher_module_pkey PRIMARY KEY (module_id, teacher_id),
    CONSTRAINT teacher_module_module_id_fkey FOREIGN KEY (module_id) REFERENCES modules (id),
    CONSTRAINT teacher_module_teacher_id_fkey FOREIGN KEY (teacher_id) REFERENCES users (id)
);

CREATE TABLE user_group (
    user_id  INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    CONSTRAINT user_group_pkey PRIMARY KEY (user_id, group_id),
    CONSTRAINT user_group_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id),
    CONSTRAINT user_group_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);

CREATE TABLE lessons (
    id          SERIAL       NOT NULL,
    subject_id  INTEGER      NOT NULL,
    title       VARCHAR(100) NOT NULL,
    type        VARCHAR(20)  NOT NULL,
    description TEXT,
    content_url TEXT         NOT NULL,
    created_at  TIMESTAMP WITHOUT TIME ZONE,
    CONSTRAINT lessons_pkey PRIMARY KEY (id),
    CONSTRAINT lessons_subject_id_fkey FOREIGN KEY (subject_id) REFERENCES subjects (id)
);
CREATE INDEX ix_lessons_id ON lessons (id);

-- Head shape: file_path moved to submission_files by Alembic 7a2a4924f9e5.
CREATE TABLE lesson_submissions (
    id           SERIAL  NOT NULL,
    lesson_id    INTEGER,
    user_id      INTEGER,
    comment      TEXT,
    grade        INTEGER,
    submitted_at TIMESTAMP WITHOUT TIME ZONE,
    CONSTRAINT lesson_submissions_pkey PRIMARY KEY (id),
    CONSTRAINT lesson_submissions_lesson_id_fkey FOREIGN KEY (lesson_id) REFERENCES lessons (id) ON DELETE CASCADE,
    CONSTRAINT lesson_submissions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_lesson_submissions_id ON lesson_submissions (id);

CREATE TABLE submission_files (
    id            SERIAL       NOT NULL,
    submission_id INTEGER      NOT NULL,
    file_path     VARCHAR(512) NOT NULL,
    CONSTRAINT submission_files_pkey PRIMARY KEY (id),
    CONSTRAINT submission_files_submission_id_fkey FOREIGN KEY (submission_id) REFERENCES lesson_submissions (id) ON DELETE CASCADE
);
CREATE INDEX ix_submission_files_id ON submission_files (id);

CREATE TABLE tests (
    id         SERIAL       NOT NULL,
    title      VARCHAR(100) NOT NULL,
    subject_id INTEGER      NOT NULL,
    lesson_id  INTEGER,
    CONSTRAINT tests_pkey PRIMARY KEY (id),
    CONSTRAINT tests_lesson_id_key UNIQUE (lesson_id),
    CONSTRAINT tests_lesson_id_fkey FOREIGN KEY (lesson_id) REFERENCES lessons (id),
    CONSTRAINT tests_subject_id_fkey FOREIGN KEY (subject_id) REFERENCES subjects (id)
);
CREATE INDEX ix_tests_id ON tests (id);

CREATE TABLE questions (
    id                   SERIAL  NOT NULL,
    test_id              INTEGER NOT NULL,
    question_text        TEXT    NOT NULL,
    correct_option_index INTEGER NOT NULL,
    CONSTRAINT questions_pkey PRIMARY KEY (id),
    CONSTRAINT questions_test_id_fkey FOREIGN KEY (test_id) REFERENCES tests (id)
);
CREATE INDEX ix_questions_id ON questions (id);

CREATE TABLE options (
    id           SERIAL  NOT NULL,
    question_id  INTEGER NOT NULL,
    option_text  TEXT    NOT NULL,
    option_index INTEGER NOT NULL,
    CONSTRAINT options_pkey PRIMARY KEY (id),
    CONSTRAINT options_question_id_fkey FOREIGN KEY (question_id) REFERENCES questions (id)
);
CREATE INDEX ix_options_id ON options (id);

CREATE TABLE results (
    id           SERIAL           NOT NULL,
    user_id      INTEGER          NOT NULL,
    lesson_id    INTEGER,
    test_id      INTEGER,
    score        DOUBLE PRECISION NOT NULL,
    submitted_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
    CONSTRAINT results_pkey PRIMARY KEY (id),
    CONSTRAINT results_lesson_id_fkey FOREIGN KEY (lesson_id) REFERENCES lessons (id),
    CONSTRAINT results_test_id_fkey FOREIGN KEY (test_id) REFERENCES tests (id),
    CONSTRAINT results_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id)
);
CREATE INDEX ix_results_id ON results (id);

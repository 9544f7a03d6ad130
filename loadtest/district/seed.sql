-- The bench data sets of issue 20, generated in SQL (generate_series) into an
-- empty migrated database. loadtest/district/seed.sh runs it with the sizes of
-- one set as psql variables:
--
--   students teachers groups modules  (subjects: 10 per module, lessons: 20 per subject)
--   submissions results sessions
--
-- Layout (ids are explicit and dense, so the bench can name rows by arithmetic):
--   users     1 = the admin (IIN 000000000001); 2 .. 1+teachers = teachers;
--             then the students. IIN = the id, zero-padded to 12 digits; every
--             account's password is "bench-password" (bcrypt cost 4); every
--             user has a photo path.
--   groups    student k (0-based) is in group k % groups + 1.
--   modules   group g reaches 4 modules (module_group): (4g + j) % modules + 1.
--   subjects  module m holds ids 10(m-1)+1 .. 10m, taught round-robin; one
--             teacher_module row per module; one test (5 questions × 4 options)
--             per subject.
--   lessons   subject s holds ids 20(s-1)+1 .. 20s; content_url a lesson_docs path.
--   submissions, each with one homework file; test results, unique per
--   (user, test); refresh sessions (one family + one token each).
--
-- Triggers and foreign-key checks are off while loading (session_replication_role
-- = replica); course_revision is filled directly. Everything is one transaction.

\set ON_ERROR_STOP 1
SET session_replication_role = replica;
SET maintenance_work_mem = '256MB';
SET work_mem = '64MB';
SET synchronous_commit = off;

BEGIN;

CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TEMP TABLE seed_hash AS SELECT crypt('bench-password', gen_salt('bf', 4)) AS h;

INSERT INTO users (id, full_name, iin, role, hashed_password, photo, token_version)
SELECT i,
       CASE WHEN i = 1 THEN 'Bench Admin'
            WHEN i <= 1 + :teachers THEN 'Teacher ' || i
            ELSE 'Student ' || i END,
       lpad(i::text, 12, '0'),
       (CASE WHEN i = 1 THEN 'admin' WHEN i <= 1 + :teachers THEN 'teacher' ELSE 'student' END)::userrole,
       (SELECT h FROM seed_hash),
       'static/photos/u' || i || '.jpg',
       1
FROM generate_series(1, 1 + :teachers + :students) i;

INSERT INTO groups (id, name, description)
SELECT g, 'Group ' || g, 'bench group' FROM generate_series(1, :groups) g;

INSERT INTO user_group (user_id, group_id)
SELECT 2 + :teachers + k, k % :groups + 1 FROM generate_series(0, :students - 1) k;

INSERT INTO modules (id, title, description, course, created_at)
SELECT m, 'Module ' || m, 'bench module ' || m, (m % 11 + 1)::text, timestamp '2026-09-01' + m * interval '1 minute'
FROM generate_series(1, :modules) m;

INSERT INTO module_group (module_id, group_id)
SELECT DISTINCT (4 * g + j) % :modules + 1, g
FROM generate_series(1, :groups) g, generate_series(0, 3) j;

INSERT INTO subjects (id, module_id, teacher_id, title)
SELECT s, (s - 1) / 10 + 1, (s - 1) % :teachers + 2, 'Subject ' || s
FROM generate_series(1, 10 * :modules) s;

INSERT INTO teacher_module (module_id, teacher_id)
SELECT m, (m * 7) % :teachers + 2 FROM generate_series(1, :modules) m;

INSERT INTO lessons (id, subject_id, title, type, description, content_url, created_at)
SELECT l, (l - 1) / 20 + 1, 'Lesson ' || l, 'video', 'bench lesson ' || l,
       'static/lesson_docs/l' || l || '.pdf', timestamp '2026-09-01' + l * interval '1 second'
FROM generate_series(1, 200 * :modules) l;

INSERT INTO course_revision (module_id, rev)
SELECT m, nextval('course_revision_seq') FROM generate_series(1, :modules) m
ON CONFLICT (module_id) DO UPDATE SET rev = EXCLUDED.rev;

INSERT INTO tests (id, title, subject_id)
SELECT t, 'Test ' || t, t FROM generate_series(1, 10 * :modules) t;
INSERT INTO questions (id, test_id, question_text, correct_option_index)
SELECT q, (q - 1) / 5 + 1, 'Question ' || q, q % 4 FROM generate_series(1, 50 * :modules) q;
INSERT INTO options (id, question_id, option_text, option_index)
SELECT o, (o - 1) / 4 + 1, 'Option ' || o, (o - 1) % 4 FROM generate_series(1, 200 * :modules) o;

-- Submission i: lesson i % L + 1, by the (i / L)-th of a run of students
-- starting at a lesson-dependent offset.
INSERT INTO lesson_submissions (id, lesson_id, user_id, comment, grade, submitted_at)
SELECT i, i % (200 * :modules) + 1,
       2 + :teachers + ((i % (200 * :modules)) * 3 + i / (200 * :modules)) % :students,
       NULL, CASE WHEN i % 3 = 0 THEN NULL ELSE i % 100 END,
       timestamp '2026-09-02' + (i % 100000) * interval '1 second'
FROM generate_series(1, :submissions) i;

INSERT INTO submission_files (id, submission_id, file_path)
SELECT i, i, 'static/homework/s' || i || '.pdf' FROM generate_series(1, :submissions) i;

-- Result i: test i % T + 1, by a run of distinct students per test.
INSERT INTO results (id, user_id, lesson_id, test_id, score, submitted_at)
SELECT i, 2 + :teachers + ((i % (10 * :modules)) * 7 + i / (10 * :modules)) % :students,
       NULL, i % (10 * :modules) + 1, (i % 100)::float8, timestamp '2026-09-03'
FROM generate_series(1, :results) i;

INSERT INTO refresh_families (id, user_id, token_version, created_at)
SELECT i, (i - 1) % (1 + :teachers + :students) + 1, 1, now() FROM generate_series(1, :sessions) i;
INSERT INTO refresh_tokens (id, token_hash, family_id, created_at, expires_at)
SELECT i, sha256(('bench-session-' || i)::bytea), i, now(), now() + interval '30 days'
FROM generate_series(1, :sessions) i;

DROP EXTENSION pgcrypto;
COMMIT;

-- Serial sequences move past the explicit ids.
SELECT setval('users_id_seq', (SELECT max(id) FROM users));
SELECT setval('groups_id_seq', (SELECT max(id) FROM groups));
SELECT setval('modules_id_seq', (SELECT max(id) FROM modules));
SELECT setval('subjects_id_seq', (SELECT max(id) FROM subjects));
SELECT setval('lessons_id_seq', (SELECT max(id) FROM lessons));
SELECT setval('tests_id_seq', (SELECT max(id) FROM tests));
SELECT setval('questions_id_seq', (SELECT max(id) FROM questions));
SELECT setval('options_id_seq', (SELECT max(id) FROM options));
SELECT setval('lesson_submissions_id_seq', (SELECT max(id) FROM lesson_submissions));
SELECT setval('submission_files_id_seq', (SELECT max(id) FROM submission_files));
SELECT setval('results_id_seq', (SELECT max(id) FROM results));
SELECT setval('refresh_families_id_seq', (SELECT max(id) FROM refresh_families));
SELECT setval('refresh_tokens_id_seq', (SELECT max(id) FROM refresh_tokens));

VACUUM (ANALYZE);

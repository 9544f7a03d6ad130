DROP TRIGGER IF EXISTS grade_history_append_only ON grade_history;
DROP FUNCTION IF EXISTS grade_history_append_only();
DROP TABLE IF EXISTS grade_history;
DROP TABLE IF EXISTS lesson_extensions;
ALTER TABLE lesson_submissions DROP COLUMN IF EXISTS late_seconds;
ALTER TABLE lessons DROP CONSTRAINT IF EXISTS lessons_deadline_order;
ALTER TABLE lessons DROP COLUMN IF EXISTS cutoff_at;
ALTER TABLE lessons DROP COLUMN IF EXISTS due_at;

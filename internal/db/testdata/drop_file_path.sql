-- The rest of Alembic 7a2a4924f9e5 on an empty 33732b012934 schema: homework
-- paths live in submission_files, the old column goes.
ALTER TABLE lesson_submissions DROP COLUMN file_path;

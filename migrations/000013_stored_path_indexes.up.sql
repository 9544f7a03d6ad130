-- Issue 20: the orphan file sweep checks the files it finds in the store
-- against the rows, a batch at a time, by equality on the columns that name
-- stored files; these indexes make each check a few probes whatever the
-- tables' sizes (a district: 5 M homework files). Additive: the original
-- service never notices them. IF NOT EXISTS, as an operator may have created
-- one. lessons.content_url is answered by migration 10's hash index.

CREATE INDEX IF NOT EXISTS ix_submission_files_file_path ON submission_files (file_path);
CREATE INDEX IF NOT EXISTS ix_users_photo ON users (photo) WHERE photo IS NOT NULL;

DROP INDEX IF EXISTS ix_users_photo;
DROP INDEX IF EXISTS ix_submission_files_file_path;

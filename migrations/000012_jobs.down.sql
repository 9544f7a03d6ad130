UPDATE import_jobs SET status = 'failed', error = 'Импорт не был выполнен', finished_at = now() AT TIME ZONE 'UTC'
WHERE status = 'queued';
ALTER TABLE import_jobs DROP COLUMN credentials_until;
ALTER TABLE import_jobs DROP COLUMN credentials;
ALTER TABLE import_jobs DROP COLUMN attempt;
ALTER TABLE import_jobs DROP COLUMN job_id;
ALTER TABLE import_jobs DROP CONSTRAINT import_jobs_status_check;
ALTER TABLE import_jobs ADD CONSTRAINT import_jobs_status_check CHECK (status IN ('running', 'done', 'failed'));

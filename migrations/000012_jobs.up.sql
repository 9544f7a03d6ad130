-- Imports run as River jobs (issue 22; River's own tables come from its
-- migrations, run by the migrate step after ours): an import is queued
-- before it runs, may be retried by another instance after its own died,
-- and keeps the new accounts' one-time passwords, encrypted, until the
-- admin has read them once or their short TTL ends (issue 21). Additive:
-- the original service does not know this table.

ALTER TABLE import_jobs DROP CONSTRAINT import_jobs_status_check;
ALTER TABLE import_jobs ADD CONSTRAINT import_jobs_status_check
    CHECK (status IN ('queued', 'running', 'done', 'failed'));
ALTER TABLE import_jobs ADD COLUMN job_id BIGINT;
ALTER TABLE import_jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_jobs ADD COLUMN credentials BYTEA;
ALTER TABLE import_jobs ADD COLUMN credentials_until TIMESTAMP WITHOUT TIME ZONE;

-- Excel imports run detached from the request that uploaded them (API.md §5
-- upload-excel): the row is written when the import starts and completed
-- when it ends, so its outcome can be read back at
-- GET /admin/groups/imports/{import_id} after the client or a proxy gave up.
-- No foreign keys: the table only records what happened.

CREATE TABLE import_jobs (
    id          SERIAL                      NOT NULL,
    status      VARCHAR(16)                 NOT NULL DEFAULT 'running',
    file_name   VARCHAR(255)                NOT NULL,
    row_count   INTEGER                     NOT NULL DEFAULT 0,
    result      JSONB,
    error       TEXT,
    started_at  TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    finished_at TIMESTAMP WITHOUT TIME ZONE,
    CONSTRAINT import_jobs_pkey PRIMARY KEY (id),
    CONSTRAINT import_jobs_status_check CHECK (status IN ('running', 'done', 'failed'))
);

-- SCHEMA.md §2.3: login throttle state, keyed by the IIN or username tried.
-- Deliberately no foreign key to users: unknown IINs are throttled too.

CREATE TABLE login_attempts (
    iin            VARCHAR(64)              NOT NULL,
    failed_count   INTEGER                  NOT NULL DEFAULT 0,
    last_failed_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    locked_until   TIMESTAMP WITH TIME ZONE,
    CONSTRAINT login_attempts_pkey PRIMARY KEY (iin)
);
-- Serves the periodic purge of rows idle for more than a day.
CREATE INDEX ix_login_attempts_last_failed_at ON login_attempts (last_failed_at);

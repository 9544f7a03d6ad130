-- Issue 19: revocation that keeps the drop-in promise (API.md §0.5.2). Additive only, so the
-- original still runs on a migrated database.
--
-- Tokens in the original's shape (sub + exp, no "ver") work for every user until that user's
-- first revocation event. token_version NULL (adopted, never revoked) and 1 (the port's default
-- for new rows) both mean "never revoked"; every revocation event from now on moves the
-- generation to 2 or beyond (NULL → 2), so the two states stay apart.

-- The session that changed its own password keeps working (OWASP ASVS 3.3.3): its refresh family
-- (the port's tokens carry its id as "sid"), or, for a caller holding a token without sid, the
-- SHA-256 of that token. Cleared by every revocation event that ends all sessions.
ALTER TABLE users ADD COLUMN kept_session BIGINT;
ALTER TABLE users ADD COLUMN kept_token BYTEA;

-- A re-created IIN is a new identity that no earlier token names. The port's tokens carry the
-- row id (uid); a token in the original's shape names only the IIN, so the IIN of every deleted
-- user is remembered, and a row inserted later with that IIN — by the port or by the original,
-- hence triggers rather than application code — starts revoked (generation 2): tokens in the
-- original's shape never name it.
CREATE TABLE user_tombstones (
    iin        VARCHAR(12)              NOT NULL,
    deleted_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    CONSTRAINT user_tombstones_pkey PRIMARY KEY (iin)
);

CREATE FUNCTION user_tombstone_remember() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_tombstones (iin) VALUES (OLD.iin)
    ON CONFLICT (iin) DO UPDATE SET deleted_at = now();
    RETURN NULL;
END $$;

CREATE FUNCTION user_tombstone_revoke() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM user_tombstones WHERE iin = NEW.iin) THEN
        NEW.token_version := GREATEST(coalesce(NEW.token_version, 0), 2);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER user_tombstone_delete AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION user_tombstone_remember();
CREATE TRIGGER user_tombstone_insert BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION user_tombstone_revoke();

-- Only a content_url exactly in the canonical form of an upload names a file the purge may
-- remove; "is this document still named?" is then an exact match, answered by this index
-- whatever the number of lessons. Hash, not btree: content_url may be longer than a btree entry.
CREATE INDEX ix_lessons_content_url ON lessons USING hash (content_url);

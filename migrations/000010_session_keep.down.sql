DROP INDEX IF EXISTS ix_lessons_content_url;
DROP TRIGGER IF EXISTS user_tombstone_delete ON users;
DROP TRIGGER IF EXISTS user_tombstone_insert ON users;
DROP FUNCTION IF EXISTS user_tombstone_revoke();
DROP FUNCTION IF EXISTS user_tombstone_remember();
DROP TABLE IF EXISTS user_tombstones;
ALTER TABLE users DROP COLUMN IF EXISTS kept_token;
ALTER TABLE users DROP COLUMN IF EXISTS kept_session;

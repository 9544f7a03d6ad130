-- Accounts an Excel import created keep the IIN-derived default password
-- until their owner changes it; the login and /auth/check responses say so
-- (must_change_password). Additive with a default, so the original service's
-- inserts, which do not name the column, keep working.

ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT false;

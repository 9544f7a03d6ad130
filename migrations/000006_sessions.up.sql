-- Issue 15: revocable sessions. Additive only, so the original still runs on
-- a migrated database.
--
-- users.token_version is the generation of the user's tokens: access tokens
-- carry it (claim "ver") and stop working when it moves on, on every instance.
-- A password change or an admin reset bumps it explicitly in its UPDATE (not a
-- trigger on the hash: a hash rewrite that is no user-visible event must not
-- revoke). Existing (adopted) rows stay NULL, the only state in which the
-- original's tokens (no "ver") are accepted; rows inserted from now on get 1,
-- so an old token naming a deleted-then-recreated IIN is refused.
ALTER TABLE users ADD COLUMN token_version INTEGER;
ALTER TABLE users ALTER COLUMN token_version SET DEFAULT 1;

-- A refresh family is one login's chain of rotated refresh tokens, bound to
-- the user and to the token generation it was started in. Every change to a
-- family's tokens happens under a lock on its row; revoking a family deletes
-- it (and its tokens). The rows go with their user.
CREATE TABLE refresh_families (
    id            BIGSERIAL                NOT NULL,
    user_id       INTEGER                  NOT NULL,
    token_version INTEGER                  NOT NULL,
    created_at    TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    CONSTRAINT refresh_families_pkey PRIMARY KEY (id),
    CONSTRAINT refresh_families_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_refresh_families_user_id ON refresh_families (user_id);

-- Opaque refresh tokens, stored as the SHA-256 of their 256 random bits.
-- used_at marks a rotated token, whose reuse revokes the family (RFC 9700 §4.14).
CREATE TABLE refresh_tokens (
    id         BIGSERIAL                NOT NULL,
    token_hash BYTEA                    NOT NULL,
    family_id  BIGINT                   NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    used_at    TIMESTAMP WITH TIME ZONE,
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash),
    CONSTRAINT refresh_tokens_family_id_fkey FOREIGN KEY (family_id) REFERENCES refresh_families (id) ON DELETE CASCADE
);
CREATE INDEX ix_refresh_tokens_family_id ON refresh_tokens (family_id);

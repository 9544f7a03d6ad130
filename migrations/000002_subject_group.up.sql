-- SCHEMA.md §2.1: group ↔ subject access. The original's code referred to this
-- relation without ever creating it. ON DELETE CASCADE (unlike the original's
-- keys) so the original application, which does not know this table, can still
-- delete subjects and groups if it is run against a migrated database.

CREATE TABLE subject_group (
    subject_id INTEGER NOT NULL,
    group_id   INTEGER NOT NULL,
    CONSTRAINT subject_group_pkey PRIMARY KEY (subject_id, group_id),
    CONSTRAINT subject_group_subject_id_fkey FOREIGN KEY (subject_id) REFERENCES subjects (id) ON DELETE CASCADE,
    CONSTRAINT subject_group_group_id_fkey FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE CASCADE
);
-- The primary key serves lookups by subject; this one serves lookups by group.
CREATE INDEX ix_subject_group_group_id ON subject_group (group_id);

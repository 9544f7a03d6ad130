-- Issue 24: homework deadlines, per-student extensions, the late flag and the
-- grade history. Additive only (new nullable columns, new tables), so the
-- original keeps running on a migrated database: its INSERTs leave the new
-- columns NULL, which means "no deadline" and "not late", as before.
--
-- Deadlines are naive UTC timestamps like every other time column, whole
-- seconds (the API takes RFC 3339 and truncates nothing: it refuses fractions).
ALTER TABLE lessons ADD COLUMN due_at TIMESTAMP WITHOUT TIME ZONE;
ALTER TABLE lessons ADD COLUMN cutoff_at TIMESTAMP WITHOUT TIME ZONE;
ALTER TABLE lessons ADD CONSTRAINT lessons_deadline_order
    CHECK (due_at IS NULL OR cutoff_at IS NULL OR cutoff_at >= due_at);

-- A submission made after its effective due time: how many whole seconds
-- late it was (NULL: on time, or no deadline). Written once, at submit time.
ALTER TABLE lesson_submissions ADD COLUMN late_seconds INTEGER;

-- A teacher's extension for one student on one lesson: each non-NULL time
-- replaces the lesson's. The rows go with their lesson or student.
CREATE TABLE lesson_extensions (
    lesson_id  INTEGER                     NOT NULL,
    user_id    INTEGER                     NOT NULL,
    due_at     TIMESTAMP WITHOUT TIME ZONE,
    cutoff_at  TIMESTAMP WITHOUT TIME ZONE,
    granted_by INTEGER,
    granted_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    CONSTRAINT lesson_extensions_pkey PRIMARY KEY (lesson_id, user_id),
    CONSTRAINT lesson_extensions_lesson_id_fkey FOREIGN KEY (lesson_id) REFERENCES lessons (id) ON DELETE CASCADE,
    CONSTRAINT lesson_extensions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT lesson_extensions_granted_by_fkey FOREIGN KEY (granted_by) REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX ix_lesson_extensions_user_id ON lesson_extensions (user_id);

-- The grade history: one row per grade set, changed or cleared on a
-- submission and per test result deleted, written in the transaction of the
-- change. References become NULL when what they name is deleted; the names
-- copied at write time stay. Rows are never updated otherwise nor deleted
-- (the triggers below refuse it, whoever asks).
CREATE TABLE grade_history (
    id            BIGSERIAL                   NOT NULL,
    kind          VARCHAR(10)                 NOT NULL,
    submission_id INTEGER,
    result_id     INTEGER,
    lesson_id     INTEGER,
    lesson_title  VARCHAR(100),
    student_id    INTEGER,
    student_name  TEXT,
    actor_id      INTEGER,
    actor_name    TEXT,
    actor_role    VARCHAR(20)                 NOT NULL,
    old_value     DOUBLE PRECISION,
    new_value     DOUBLE PRECISION,
    endpoint      TEXT                        NOT NULL,
    changed_at    TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    CONSTRAINT grade_history_pkey PRIMARY KEY (id),
    CONSTRAINT grade_history_kind_check CHECK (kind IN ('homework', 'test')),
    CONSTRAINT grade_history_submission_id_fkey FOREIGN KEY (submission_id) REFERENCES lesson_submissions (id) ON DELETE SET NULL,
    CONSTRAINT grade_history_lesson_id_fkey FOREIGN KEY (lesson_id) REFERENCES lessons (id) ON DELETE SET NULL,
    CONSTRAINT grade_history_student_id_fkey FOREIGN KEY (student_id) REFERENCES users (id) ON DELETE SET NULL,
    CONSTRAINT grade_history_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX ix_grade_history_submission_id ON grade_history (submission_id);
CREATE INDEX ix_grade_history_lesson_id ON grade_history (lesson_id);
CREATE INDEX ix_grade_history_student_id ON grade_history (student_id);
CREATE INDEX ix_grade_history_actor_id ON grade_history (actor_id);

-- Append-only: DELETE is refused; UPDATE only when it sets references to
-- NULL (the ON DELETE SET NULL of the foreign keys) and changes nothing else.
CREATE FUNCTION grade_history_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'grade_history is append-only';
    END IF;
    IF (NEW.submission_id IS NOT NULL AND NEW.submission_id IS DISTINCT FROM OLD.submission_id)
        OR (NEW.lesson_id IS NOT NULL AND NEW.lesson_id IS DISTINCT FROM OLD.lesson_id)
        OR (NEW.student_id IS NOT NULL AND NEW.student_id IS DISTINCT FROM OLD.student_id)
        OR (NEW.actor_id IS NOT NULL AND NEW.actor_id IS DISTINCT FROM OLD.actor_id)
        OR (NEW.id, NEW.kind, NEW.result_id, NEW.lesson_title, NEW.student_name, NEW.actor_name,
            NEW.actor_role, NEW.old_value, NEW.new_value, NEW.endpoint, NEW.changed_at)
           IS DISTINCT FROM
           (OLD.id, OLD.kind, OLD.result_id, OLD.lesson_title, OLD.student_name, OLD.actor_name,
            OLD.actor_role, OLD.old_value, OLD.new_value, OLD.endpoint, OLD.changed_at) THEN
        RAISE EXCEPTION 'grade_history is append-only';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER grade_history_append_only BEFORE UPDATE OR DELETE ON grade_history
    FOR EACH ROW EXECUTE FUNCTION grade_history_append_only();

-- Course-tree cache revisions (issue 12): one row per module whose rev changes
-- in the same transaction as every write that changes what the module's tree
-- shows (the module, its subjects, their lessons). Triggers rather than
-- application code, so writes by the original application on the same
-- database invalidate the port's caches too. Each rev comes from one sequence:
-- a value is never reused, even for a module deleted and recreated with the
-- same id. Group links and memberships are not here: who sees what is computed
-- per request, never cached.

CREATE SEQUENCE course_revision_seq;

-- No foreign key: a row may outlive its module (a deleted module is simply
-- never asked for), and cascading deletes need not order around it.
CREATE TABLE course_revision (
    module_id integer PRIMARY KEY,
    rev       bigint  NOT NULL
);

INSERT INTO course_revision (module_id, rev)
SELECT id, nextval('course_revision_seq') FROM modules;

CREATE FUNCTION course_revision_bump(mid integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO course_revision (module_id, rev)
    SELECT mid, nextval('course_revision_seq') WHERE mid IS NOT NULL
    ON CONFLICT (module_id) DO UPDATE SET rev = EXCLUDED.rev
$$;

CREATE FUNCTION course_revision_modules() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM course_revision_bump(OLD.id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.id IS DISTINCT FROM OLD.id) THEN
        PERFORM course_revision_bump(NEW.id);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION course_revision_subjects() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM course_revision_bump(OLD.module_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.module_id IS DISTINCT FROM OLD.module_id) THEN
        PERFORM course_revision_bump(NEW.module_id);
    END IF;
    RETURN NULL;
END
$$;

-- A lesson's module is its subject's; when the subject is being deleted in
-- the same statement (a cascade) the lookup finds nothing, and the subject's
-- own trigger has bumped the module.
CREATE FUNCTION course_revision_lessons() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM course_revision_bump((SELECT module_id FROM subjects WHERE id = OLD.subject_id));
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.subject_id IS DISTINCT FROM OLD.subject_id) THEN
        PERFORM course_revision_bump((SELECT module_id FROM subjects WHERE id = NEW.subject_id));
    END IF;
    RETURN NULL;
END
$$;

-- TRUNCATE has no rows to look at: every module moves on.
CREATE FUNCTION course_revision_all() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO course_revision (module_id, rev)
    SELECT id, nextval('course_revision_seq') FROM modules
    ON CONFLICT (module_id) DO UPDATE SET rev = EXCLUDED.rev;
    RETURN NULL;
END
$$;

CREATE TRIGGER course_revision AFTER INSERT OR UPDATE OR DELETE ON modules
    FOR EACH ROW EXECUTE FUNCTION course_revision_modules();
CREATE TRIGGER course_revision AFTER INSERT OR UPDATE OR DELETE ON subjects
    FOR EACH ROW EXECUTE FUNCTION course_revision_subjects();
CREATE TRIGGER course_revision AFTER INSERT OR UPDATE OR DELETE ON lessons
    FOR EACH ROW EXECUTE FUNCTION course_revision_lessons();
CREATE TRIGGER course_revision_truncate AFTER TRUNCATE ON modules
    FOR EACH STATEMENT EXECUTE FUNCTION course_revision_all();
CREATE TRIGGER course_revision_truncate AFTER TRUNCATE ON subjects
    FOR EACH STATEMENT EXECUTE FUNCTION course_revision_all();
CREATE TRIGGER course_revision_truncate AFTER TRUNCATE ON lessons
    FOR EACH STATEMENT EXECUTE FUNCTION course_revision_all();

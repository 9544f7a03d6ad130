-- SCHEMA.md §2.2: one result per user and test. The original's check-then-insert
-- could race and store duplicates; keep the earliest (lowest id) of each
-- (user_id, test_id) pair, then let the database enforce uniqueness.
-- Rows with test_id NULL are untouched (NULLs are distinct).
-- Both statements run in one implicit transaction (one simple-protocol Query),
-- so duplicates are never deleted without the constraint being added.

DELETE FROM results r
USING results k
WHERE r.test_id IS NOT NULL
  AND r.user_id = k.user_id
  AND r.test_id = k.test_id
  AND r.id > k.id;

ALTER TABLE results ADD CONSTRAINT uq_results_user_test UNIQUE (user_id, test_id);

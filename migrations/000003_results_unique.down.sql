-- Deleted duplicates are not restored.
ALTER TABLE results DROP CONSTRAINT uq_results_user_test;

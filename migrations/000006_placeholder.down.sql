-- Placeholder for migration 6, which another branch adds: it keeps this
-- branch's sequence contiguous (8 and 9 are this branch's). Drop this pair
-- when merging.
SELECT 1;

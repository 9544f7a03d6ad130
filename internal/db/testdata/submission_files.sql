-- The submission_files table as the original creates it, both through Alembic
-- 7a2a4924f9e5 and through its start-up create_all (which adds it, empty,
-- next to the old lesson_submissions.file_path column).
CREATE TABLE submission_files (
	id SERIAL NOT NULL,
	submission_id INTEGER NOT NULL,
	file_path VARCHAR(512) NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(submission_id) REFERENCES lesson_submissions (id) ON DELETE CASCADE
);
CREATE INDEX ix_submission_files_id ON submission_files (id);

-- What the original's start-up create_all adds to a 33732b012934-shaped
-- database once its models know SubmissionFile: an empty submission_files next
-- to the old lesson_submissions.file_path column.
CREATE TABLE submission_files (
	id SERIAL NOT NULL,
	submission_id INTEGER NOT NULL,
	file_path VARCHAR(512) NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(submission_id) REFERENCES lesson_submissions (id) ON DELETE CASCADE
);
CREATE INDEX ix_submission_files_id ON submission_files (id);

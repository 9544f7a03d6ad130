-- Drops everything 000001_baseline.up.sql created, dependants first. Never run
-- automatically: on an adopted database this deletes the original's data too.
-- Dropping a table drops its SERIAL sequences and indexes with it.
-- Atomic as one implicit transaction (see the up file).

DROP TABLE results;
DROP TABLE options;
DROP TABLE questions;
DROP TABLE tests;
DROP TABLE submission_files;
DROP TABLE lesson_submissions;
DROP TABLE lessons;
DROP TABLE user_group;
DROP TABLE teacher_module;
DROP TABLE subjects;
DROP TABLE module_group;
DROP TABLE users;
DROP TABLE modules;
DROP TABLE groups;
DROP TYPE userrole;

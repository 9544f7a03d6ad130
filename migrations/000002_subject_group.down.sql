DROP TABLE subject_group;

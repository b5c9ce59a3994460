-- head file: 004_schema_gobernanza.sql
ALTER TABLE gobernanza.policies DROP COLUMN IF EXISTS description;

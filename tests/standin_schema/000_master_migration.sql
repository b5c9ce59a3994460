-- Stand-in master migration for the plugin's own tests: same shape as schema/ (psql includes), tiny content.
\set ON_ERROR_STOP on
\echo 'stand-in schema'
\ir 001_schema_iam.sql

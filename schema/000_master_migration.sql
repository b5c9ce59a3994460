-- 000_master_migration.sql — applies the whole schema of RFC-PHOENIX-01 in order, in one transaction.
--
--   psql -U postgres -d leadboost_ai -f 000_master_migration.sql          (from inside schema/)
--   psql -U postgres -d leadboost_ai -f schema/000_master_migration.sql   (from the repository root)
--
-- \ir resolves each file relative to this one, so both work. Applying it again changes nothing.
-- This is the only file with psql meta-commands; 001–008 and 999 are plain SQL.
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;

BEGIN;
\ir 001_schema_iam.sql
\ir 002_schema_finanzas.sql
\ir 003_schema_stock.sql
\ir 004_schema_gobernanza.sql
\ir 005_schema_sys.sql
\ir 006_schema_events.sql
\ir 007_schema_migration.sql
COMMIT;

RESET client_min_messages;
\set QUIET off
\echo 'leadboost-schema: iam, finanzas, stock, gobernanza, sys, events, migration are in place'

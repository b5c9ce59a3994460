-- 000_master_migration.sql — brings leadboost_ai to the head schema of RFC-PHOENIX-01, whatever it holds now:
--
--   psql -U postgres -d leadboost_ai -f 000_master_migration.sql          (from inside schema/)
--   psql -U postgres -d leadboost_ai -f schema/000_master_migration.sql   (from the repository root)
--
-- * an empty database: installs head from 001–007 in one transaction and records every upgrade as included;
-- * a database with sys.schema_upgrades: applies the upgrades it has not recorded, in order, each in its own
--   transaction with its record (schema/upgrades/pending.sql);
-- * a database built before the version table existed (release 1.0.0): recognised by its catalog fingerprint,
--   adopted, then upgraded; one that matches no release is refused (LB904) and left as it was.
-- A released upgrade file that was edited (LB902) or a database newer than this folder (LB903) is refused before
-- anything runs. Running it again changes nothing. \ir resolves each file relative to this one, so both commands
-- above work. This file and schema/upgrades/ hold the psql meta-commands; 001–008 and 999 are plain SQL.
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;
-- One migrator at a time; released when the session ends (or below).
SELECT pg_catalog.pg_advisory_lock(pg_catalog.hashtext('leadboost-schema 000_master_migration.sql')) AS lb_locked
\gset
\ir upgrades/baseline.sql
\ir upgrades/history.sql

SELECT pg_catalog.to_regclass('sys.schema_upgrades') IS NOT NULL AS lb_versioned,
       pg_catalog.to_regnamespace('iam') IS NOT NULL AS lb_installed
\gset
\if :lb_versioned
\elif :lb_installed
\ir upgrades/adopt.sql
\else
BEGIN;
\ir 001_schema_iam.sql
\ir 002_schema_finanzas.sql
\ir 003_schema_stock.sql
\ir 004_schema_gobernanza.sql
\ir 005_schema_sys.sql
\ir 006_schema_events.sql
\ir 007_schema_migration.sql
\ir upgrades/version_table.sql
INSERT INTO sys.schema_upgrades (upgrade, release, checksum, how)
SELECT upgrade, release, checksum, 'fresh' FROM (VALUES :lb_history) AS h (upgrade, release, checksum)
WHERE upgrade IS NOT NULL;
COMMIT;
\endif
\ir upgrades/check_history.sql
\ir upgrades/pending.sql

SELECT pg_catalog.pg_advisory_unlock(pg_catalog.hashtext('leadboost-schema 000_master_migration.sql')) AS lb_unlocked
\gset
RESET client_min_messages;
\set QUIET off
\echo 'leadboost-schema: iam, finanzas, stock, gobernanza, sys, events, migration are in place at release' :lb_head_release

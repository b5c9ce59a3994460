-- upgrade_not_fresh.sql — UNSAFE: an index only the upgrade builds; the head file 007 does not have it, so a
-- fresh install and an upgraded database differ. Caught by "upgrade = fresh".
-- release: 1.1.0
-- transaction: none
-- down: upgrade_not_fresh.down.sql
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE INDEX CONCURRENTLY IF NOT EXISTS raw_signals_signal_type_idx ON migration.raw_signals (tenant_id, signal_type);

RESET statement_timeout;
RESET lock_timeout;

-- upgrade_not_fresh_safe.sql — the same index, also in the head file 007 (upgrade_not_fresh_safe.head.sql): a
-- fresh install and an upgraded database are the same.
-- release: 1.1.0
-- transaction: none
-- down: upgrade_not_fresh_safe.down.sql
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE INDEX CONCURRENTLY IF NOT EXISTS raw_signals_signal_type_idx ON migration.raw_signals (tenant_id, signal_type);

RESET statement_timeout;
RESET lock_timeout;

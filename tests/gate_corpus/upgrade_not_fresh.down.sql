-- upgrade_not_fresh.down.sql — drops the index the upgrade built.
-- transaction: none
DROP INDEX CONCURRENTLY IF EXISTS migration.raw_signals_signal_type_idx;

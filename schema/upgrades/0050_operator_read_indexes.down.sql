-- 0050_operator_read_indexes.down.sql — drops the indexes 0050 built (CONCURRENTLY: statements one by one).
-- transaction: none
SET lock_timeout = '5s';
SET statement_timeout = '1min';

DROP INDEX CONCURRENTLY IF EXISTS sys.sagas_tenant_active_idx;
DROP INDEX CONCURRENTLY IF EXISTS events.event_store_stream_first_idx;
DROP INDEX CONCURRENTLY IF EXISTS migration.batch_control_tenant_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS migration.raw_signals_tenant_id_batch_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS migration.campaigns_tenant_id_batch_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS migration.audit_logs_tenant_id_batch_id_idx;

RESET lock_timeout;
RESET statement_timeout;

-- 0050_operator_read_indexes.sql — issue 14: indexes that make the operator reads of one tenant cost that
-- tenant's rows: active sagas (partial, RUNNING/COMPENSATING), the first event of every stream (partial,
-- version = 1; events.stream_summary lists streams from it), and tenant indexes of the migration tables
-- (migration.validate_migrated_data of one tenant). Built CONCURRENTLY: the tables are populated and in use.
-- release: 1.1.0
-- transaction: none
-- down: 0050_operator_read_indexes.down.sql
-- breaking: no

SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE INDEX CONCURRENTLY IF NOT EXISTS sagas_tenant_active_idx
    ON sys.sagas (tenant_id, started_at) WHERE state IN ('RUNNING', 'COMPENSATING');
COMMENT ON INDEX sys.sagas_tenant_active_idx IS 'Active (RUNNING, COMPENSATING) sagas by tenant: sys.active_sagas of one tenant reads only them.';
CREATE INDEX CONCURRENTLY IF NOT EXISTS event_store_stream_first_idx
    ON events.event_store (tenant_id, stream_id) WHERE version = 1;
COMMENT ON INDEX events.event_store_stream_first_idx IS 'The first event of every stream, by tenant: lists a tenant''s streams in time proportional to their number (events.stream_summary).';
CREATE INDEX CONCURRENTLY IF NOT EXISTS batch_control_tenant_id_idx
    ON migration.batch_control (tenant_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS raw_signals_tenant_id_batch_id_idx
    ON migration.raw_signals (tenant_id, batch_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS campaigns_tenant_id_batch_id_idx
    ON migration.campaigns (tenant_id, batch_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_logs_tenant_id_batch_id_idx
    ON migration.audit_logs (tenant_id, batch_id);
COMMENT ON INDEX migration.batch_control_tenant_id_idx IS 'A tenant''s batches (migration.validate_migrated_data of one tenant).';
COMMENT ON INDEX migration.raw_signals_tenant_id_batch_id_idx IS 'A tenant''s rows and their batches (migration.validate_migrated_data of one tenant).';
COMMENT ON INDEX migration.campaigns_tenant_id_batch_id_idx IS 'A tenant''s rows and their batches (migration.validate_migrated_data of one tenant).';
COMMENT ON INDEX migration.audit_logs_tenant_id_batch_id_idx IS 'A tenant''s rows and their batches (migration.validate_migrated_data of one tenant).';

RESET lock_timeout;
RESET statement_timeout;

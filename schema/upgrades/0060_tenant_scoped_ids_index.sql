-- 0060_tenant_scoped_ids_index.sql — builds, without blocking writers, the unique indexes that 0061 turns into
-- tenant-scoped keys (issue 17.6, and the Citus rule: every key of a tenant table holds tenant_id): sagas
-- (tenant_id, id), saga steps (tenant_id, saga_id, step_index) and (tenant_id, saga_id, step_name), event ids
-- (tenant_id, event_id), inventory items (tenant_id, id), policies (tenant_id, id).
-- If a build fails, an INVALID index is left behind: drop it (0060_tenant_scoped_ids_index.down.sql) and re-run.
-- release: 1.1.0
-- transaction: none
-- down: 0060_tenant_scoped_ids_index.down.sql
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS sagas_tenant_id_id_idx
    ON sys.sagas (tenant_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS saga_steps_tenant_id_saga_id_step_index_idx
    ON sys.saga_steps (tenant_id, saga_id, step_index);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS saga_steps_tenant_id_saga_id_step_name_key
    ON sys.saga_steps (tenant_id, saga_id, step_name);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS event_store_tenant_id_event_id_key
    ON events.event_store (tenant_id, event_id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS inventory_items_tenant_id_id_idx
    ON stock.inventory_items (tenant_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS policies_tenant_id_id_idx
    ON gobernanza.policies (tenant_id, id);

RESET lock_timeout;
RESET statement_timeout;

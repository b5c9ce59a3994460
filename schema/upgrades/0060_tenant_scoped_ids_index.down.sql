-- 0060_tenant_scoped_ids_index.down.sql — drops the indexes 0060 built (only before 0061 has run: 0061 makes
-- them the tables' keys).
-- transaction: none
SET lock_timeout = '5s';
SET statement_timeout = '1min';

DROP INDEX CONCURRENTLY IF EXISTS sys.sagas_tenant_id_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS sys.saga_steps_tenant_id_saga_id_step_index_idx;
DROP INDEX CONCURRENTLY IF EXISTS sys.saga_steps_tenant_id_saga_id_step_name_key;
DROP INDEX CONCURRENTLY IF EXISTS events.event_store_tenant_id_event_id_key;
DROP INDEX CONCURRENTLY IF EXISTS stock.inventory_items_tenant_id_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS gobernanza.policies_tenant_id_id_idx;

RESET lock_timeout;
RESET statement_timeout;

-- 0002_ledger_tenant_keys_index.down.sql — drops the two indexes 0002 built (only before 0003 has run: 0003 makes
-- them the table's keys).
-- transaction: none
SET lock_timeout = '5s';
SET statement_timeout = '1min';

DROP INDEX CONCURRENTLY IF EXISTS finanzas.transactions_tenant_id_id_idx;
DROP INDEX CONCURRENTLY IF EXISTS finanzas.transactions_tenant_id_reverses_transaction_id_key;

RESET lock_timeout;
RESET statement_timeout;

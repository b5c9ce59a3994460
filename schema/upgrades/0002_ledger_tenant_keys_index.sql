-- 0002_ledger_tenant_keys_index.sql — builds, without blocking postings, the unique indexes on
-- finanzas.transactions (tenant_id, id) and (tenant_id, reverses_transaction_id) that 0003 turns into the
-- tenant-scoped primary key and reversal key (issue 17.4/17.6: transaction ids scoped to the tenant).
-- If a build fails, an INVALID index is left behind: drop it (0002_ledger_tenant_keys_index.down.sql) and re-run.
-- release: 1.1.0
-- transaction: none
-- down: 0002_ledger_tenant_keys_index.down.sql
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS transactions_tenant_id_id_idx
    ON finanzas.transactions (tenant_id, id);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS transactions_tenant_id_reverses_transaction_id_key
    ON finanzas.transactions (tenant_id, reverses_transaction_id);

RESET lock_timeout;
RESET statement_timeout;

-- 0091_ledger_entries_drop_tenant_fkey.sql — issue 14: a leg's foreign key to iam.tenants is redundant, and every
-- leg paid for it (one more referential check per leg). The composite key ledger_entries_transaction_fkey
-- (transaction_id, tenant_id, currency) → finanzas.transactions already ties every leg's tenant to its header's,
-- whose transactions_tenant_id_fkey → iam.tenants (ON DELETE RESTRICT) holds: a leg of an unknown tenant still
-- fails with 23503 (naming the transaction key), and a tenant with legs still cannot be deleted (it has headers).
-- release: 1.1.0
-- transaction: file
-- down: 0091_ledger_entries_drop_tenant_fkey.down.sql
-- breaking: contract — a leg of an unknown tenant is refused (23503) by the transaction key ledger_entries_transaction_fkey, not ledger_entries_tenant_id_fkey, which no longer exists

SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- Dropping the key drops its triggers on both tables (ACCESS EXCLUSIVE on each): taken up front, in the order a
-- posting takes them (the tenant is read first), so no posting can hold one while waiting for the other.
LOCK TABLE iam.tenants, finanzas.ledger_entries IN ACCESS EXCLUSIVE MODE;
ALTER TABLE finanzas.ledger_entries DROP CONSTRAINT IF EXISTS ledger_entries_tenant_id_fkey;
COMMENT ON COLUMN finanzas.ledger_entries.tenant_id IS 'Owning tenant, equal to the header''s (part of the composite FK to finanzas.transactions, whose tenant_id references iam.tenants ON DELETE RESTRICT).';

RESET statement_timeout;
RESET lock_timeout;

-- 0091_ledger_entries_drop_tenant_fkey.down.sql — the legs' own foreign key to iam.tenants back (every leg's tenant
-- is its header's, so the validation cannot fail).
-- transaction: file

SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE finanzas.ledger_entries
    ADD CONSTRAINT ledger_entries_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES iam.tenants (id) ON UPDATE RESTRICT ON DELETE RESTRICT NOT VALID;
ALTER TABLE finanzas.ledger_entries VALIDATE CONSTRAINT ledger_entries_tenant_id_fkey;
COMMENT ON COLUMN finanzas.ledger_entries.tenant_id IS 'Owning tenant (FK iam.tenants ON DELETE RESTRICT), equal to the header''s.';

RESET statement_timeout;
RESET lock_timeout;

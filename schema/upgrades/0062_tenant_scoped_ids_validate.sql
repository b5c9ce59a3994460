-- 0062_tenant_scoped_ids_validate.sql — validates the saga step key 0061 added NOT VALID (FOREIGN KEY (tenant_id,
-- saga_id) → sys.sagas (tenant_id, id)). VALIDATE takes SHARE UPDATE EXCLUSIVE: saga calls go on while the steps
-- are scanned. A step whose saga is missing for its tenant makes it fail with 23503 naming the constraint (1.0.0's
-- key (saga_id, tenant_id) → (id, tenant_id) leaves none).
-- release: 1.1.0
-- transaction: none
-- down: irreversible — nothing to undo (validation changes no row; the key itself is 0061's)
-- breaking: no

SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE sys.saga_steps VALIDATE CONSTRAINT saga_steps_saga_fkey;

RESET lock_timeout;
RESET statement_timeout;

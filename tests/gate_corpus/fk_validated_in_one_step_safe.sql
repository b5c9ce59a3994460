-- fk_validated_in_one_step_safe.sql — gate corpus (safe): NOT VALID (brief lock, no scan), then VALIDATE CONSTRAINT in its own transaction (SHARE UPDATE EXCLUSIVE).
-- release: 1.1.0
-- transaction: none
-- down: irreversible — test data for the gate's lock check, never applied to a real database
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE migration.raw_signals
    ADD CONSTRAINT raw_signals_tenant_of_record_fkey FOREIGN KEY (tenant_id) REFERENCES iam.tenants (id) NOT VALID;
ALTER TABLE migration.raw_signals VALIDATE CONSTRAINT raw_signals_tenant_of_record_fkey;

RESET lock_timeout;
RESET statement_timeout;

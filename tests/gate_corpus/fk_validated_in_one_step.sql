-- fk_validated_in_one_step.sql — gate corpus (unsafe): a foreign key added and validated in one statement: the scan runs under the ALTER's lock.
-- release: 1.1.0
-- transaction: file
-- down: irreversible — test data for the gate's lock check, never applied to a real database
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE migration.raw_signals
    ADD CONSTRAINT raw_signals_tenant_of_record_fkey FOREIGN KEY (tenant_id) REFERENCES iam.tenants (id);

RESET lock_timeout;
RESET statement_timeout;

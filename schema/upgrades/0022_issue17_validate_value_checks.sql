-- 0022_issue17_validate_value_checks.sql — validates the CHECKs 0021 added NOT VALID, one statement at a time
-- (SHARE UPDATE EXCLUSIVE: reads and writes go on while a table is scanned). A row with a NaN or a firebase_id over
-- 1500 bytes makes it fail with 23514 naming the constraint: correct the row, run it again.
-- release: 1.1.0
-- transaction: none
-- down: irreversible — nothing to undo (validation changes no row; 0021's down drops the constraints)
-- breaking: no

SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE gobernanza.policies VALIDATE CONSTRAINT policies_limit_value_check;
ALTER TABLE gobernanza.policies VALIDATE CONSTRAINT policies_window_consumed_check;
ALTER TABLE migration.campaigns VALIDATE CONSTRAINT campaigns_budget_check;
ALTER TABLE migration.batch_control VALIDATE CONSTRAINT batch_control_firebase_id_check;
ALTER TABLE migration.raw_signals VALIDATE CONSTRAINT raw_signals_firebase_id_check;
ALTER TABLE migration.campaigns VALIDATE CONSTRAINT campaigns_firebase_id_check;
ALTER TABLE migration.audit_logs VALIDATE CONSTRAINT audit_logs_firebase_id_check;

RESET lock_timeout;
RESET statement_timeout;

-- 0021_issue17_value_checks.down.sql — puts back the 1.0.0 CHECKs of 0021 (NaN admitted again, firebase_id in characters).
-- release: 1.1.0
-- transaction: file

SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE gobernanza.policies DROP CONSTRAINT policies_limit_value_check;
ALTER TABLE gobernanza.policies ADD CONSTRAINT policies_limit_value_check CHECK (limit_value > 0) NOT VALID;
-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE gobernanza.policies DROP CONSTRAINT policies_window_consumed_check;
ALTER TABLE gobernanza.policies ADD CONSTRAINT policies_window_consumed_check CHECK (window_consumed >= 0) NOT VALID;
-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE migration.campaigns DROP CONSTRAINT campaigns_budget_check;
ALTER TABLE migration.campaigns ADD CONSTRAINT campaigns_budget_check CHECK (budget >= 0) NOT VALID;
COMMENT ON COLUMN gobernanza.policies.limit_value IS 'SPEND_LIMIT: money per window; RATE_LIMIT: whole number of calls per window. NULL for other types.';
COMMENT ON COLUMN migration.campaigns.budget IS 'Budget (>= 0), in currency; NULL if none.';

-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE migration.batch_control DROP CONSTRAINT batch_control_firebase_id_check;
ALTER TABLE migration.batch_control
    ADD CONSTRAINT batch_control_firebase_id_check
    CHECK (length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0) NOT VALID;

-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE migration.raw_signals DROP CONSTRAINT raw_signals_firebase_id_check;
ALTER TABLE migration.raw_signals
    ADD CONSTRAINT raw_signals_firebase_id_check
    CHECK (length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0) NOT VALID;

-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE migration.campaigns DROP CONSTRAINT campaigns_firebase_id_check;
ALTER TABLE migration.campaigns
    ADD CONSTRAINT campaigns_firebase_id_check
    CHECK (length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0) NOT VALID;

-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE migration.audit_logs DROP CONSTRAINT audit_logs_firebase_id_check;
ALTER TABLE migration.audit_logs
    ADD CONSTRAINT audit_logs_firebase_id_check
    CHECK (length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0) NOT VALID;

COMMENT ON COLUMN migration.batch_control.firebase_id IS 'ETL run/batch id on the Firebase side; unique (idempotency key), 1–1500 characters without /.';

COMMENT ON COLUMN migration.raw_signals.firebase_id IS 'Firebase document id; unique (idempotency key), 1–1500 characters without /.';

COMMENT ON COLUMN migration.campaigns.firebase_id IS 'Firebase document id; unique (idempotency key), 1–1500 characters without /.';

COMMENT ON COLUMN migration.audit_logs.firebase_id IS 'Firebase document id; unique (idempotency key), 1–1500 characters without /.';

-- A rollback puts back weaker CHECKs every row already satisfies: validating them at once is a cheap scan.
-- squawk-ignore constraint-missing-not-valid
ALTER TABLE gobernanza.policies VALIDATE CONSTRAINT policies_limit_value_check;
-- squawk-ignore constraint-missing-not-valid
ALTER TABLE gobernanza.policies VALIDATE CONSTRAINT policies_window_consumed_check;
-- squawk-ignore constraint-missing-not-valid
ALTER TABLE migration.campaigns VALIDATE CONSTRAINT campaigns_budget_check;
-- squawk-ignore constraint-missing-not-valid
ALTER TABLE migration.batch_control VALIDATE CONSTRAINT batch_control_firebase_id_check;
-- squawk-ignore constraint-missing-not-valid
ALTER TABLE migration.raw_signals VALIDATE CONSTRAINT raw_signals_firebase_id_check;
-- squawk-ignore constraint-missing-not-valid
ALTER TABLE migration.campaigns VALIDATE CONSTRAINT campaigns_firebase_id_check;
-- squawk-ignore constraint-missing-not-valid
ALTER TABLE migration.audit_logs VALIDATE CONSTRAINT audit_logs_firebase_id_check;

RESET lock_timeout;
RESET statement_timeout;

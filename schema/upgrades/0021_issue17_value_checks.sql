-- 0021_issue17_value_checks.sql — issue 17.10: CHECKs that exclude NaN (policies.limit_value, policies.window_consumed,
-- campaigns.budget) and firebase_id limited to 1500 bytes, added NOT VALID (no scan under the ACCESS EXCLUSIVE lock);
-- 0022 validates them.
-- release: 1.1.0
-- transaction: file
-- down: 0021_issue17_value_checks.down.sql
-- breaking: no

SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- Every table this file alters, locked first and together: taken one ALTER at a time, each later lock could wait
-- for the application (or the backfill) while the tables before it stayed locked. The policies first (the only
-- one the application calls reach), then the backfill's tables with its control table first.
LOCK TABLE gobernanza.policies, migration.batch_control, migration.raw_signals, migration.campaigns,
    migration.audit_logs IN ACCESS EXCLUSIVE MODE;

-- NaN passes `> 0` and `>= 0` (it sorts above every number): a NaN cap never triggers.
-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE gobernanza.policies DROP CONSTRAINT policies_limit_value_check;
ALTER TABLE gobernanza.policies
    ADD CONSTRAINT policies_limit_value_check CHECK (limit_value > 0 AND limit_value <> 'NaN') NOT VALID;
-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE gobernanza.policies DROP CONSTRAINT policies_window_consumed_check;
ALTER TABLE gobernanza.policies
    ADD CONSTRAINT policies_window_consumed_check CHECK (window_consumed >= 0 AND window_consumed <> 'NaN') NOT VALID;
-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE migration.campaigns DROP CONSTRAINT campaigns_budget_check;
ALTER TABLE migration.campaigns
    ADD CONSTRAINT campaigns_budget_check CHECK (budget >= 0 AND budget <> 'NaN') NOT VALID;
COMMENT ON COLUMN gobernanza.policies.limit_value IS 'SPEND_LIMIT: money per window; RATE_LIMIT: whole number of calls per window (> 0, not NaN). NULL for other types.';
COMMENT ON COLUMN migration.campaigns.budget IS 'Budget (>= 0, not NaN), in currency; NULL if none.';

-- firebase_id in bytes (Firestore's own limit), below the unique index's 2704: 1500 multi-byte characters
-- passed the old CHECK and failed the index (54000).

-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE migration.batch_control DROP CONSTRAINT batch_control_firebase_id_check;
ALTER TABLE migration.batch_control
    ADD CONSTRAINT batch_control_firebase_id_check
    CHECK (octet_length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0) NOT VALID;

-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE migration.raw_signals DROP CONSTRAINT raw_signals_firebase_id_check;
ALTER TABLE migration.raw_signals
    ADD CONSTRAINT raw_signals_firebase_id_check
    CHECK (octet_length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0) NOT VALID;

-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE migration.campaigns DROP CONSTRAINT campaigns_firebase_id_check;
ALTER TABLE migration.campaigns
    ADD CONSTRAINT campaigns_firebase_id_check
    CHECK (octet_length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0) NOT VALID;

-- replaced by the next statement, in the same transaction:
-- squawk-ignore ban-drop-constraint
ALTER TABLE migration.audit_logs DROP CONSTRAINT audit_logs_firebase_id_check;
ALTER TABLE migration.audit_logs
    ADD CONSTRAINT audit_logs_firebase_id_check
    CHECK (octet_length(firebase_id) BETWEEN 1 AND 1500 AND strpos(firebase_id, '/') = 0) NOT VALID;

COMMENT ON COLUMN migration.batch_control.firebase_id IS 'ETL run/batch id on the Firebase side; unique (idempotency key), 1–1500 bytes (Firestore''s own limit, below the unique index''s 2704) without /.';

COMMENT ON COLUMN migration.raw_signals.firebase_id IS 'Firebase document id; unique (idempotency key), 1–1500 bytes (Firestore''s own limit, below the unique index''s 2704) without /.';

COMMENT ON COLUMN migration.campaigns.firebase_id IS 'Firebase document id; unique (idempotency key), 1–1500 bytes (Firestore''s own limit, below the unique index''s 2704) without /.';

COMMENT ON COLUMN migration.audit_logs.firebase_id IS 'Firebase document id; unique (idempotency key), 1–1500 bytes (Firestore''s own limit, below the unique index''s 2704) without /.';

RESET lock_timeout;
RESET statement_timeout;

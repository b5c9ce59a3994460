-- rewrite_ledger_type.sql — gate corpus (unsafe): a column type change that rewrites finanzas.ledger_entries (bigint → integer is not binary-coercible).
-- release: 1.1.0
-- transaction: file
-- down: irreversible — test data for the gate's lock check, never applied to a real database
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE finanzas.ledger_entries ALTER COLUMN id TYPE integer;

RESET lock_timeout;
RESET statement_timeout;

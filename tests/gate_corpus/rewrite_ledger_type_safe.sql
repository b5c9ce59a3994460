-- rewrite_ledger_type_safe.sql — gate corpus (safe): the expand step instead: a new nullable column beside the old one (metadata only, no rewrite), filled in batches later.
-- release: 1.1.0
-- transaction: file
-- down: irreversible — test data for the gate's lock check, never applied to a real database
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE finanzas.ledger_entries ADD COLUMN id_narrow integer;

RESET lock_timeout;
RESET statement_timeout;

-- 0095_ledger_one_row_check_validate.sql — validates transactions_row_check and ledger_entries_row_check, which 0094
-- added NOT VALID. VALIDATE takes SHARE UPDATE EXCLUSIVE: postings and reads go on while the rows are scanned. The
-- rules are the old CHECKs' that every row already passed.
-- release: 1.1.0
-- transaction: none
-- down: irreversible — nothing to undo (validation changes no row; the constraints themselves are 0094's)
-- breaking: no

SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE finanzas.transactions VALIDATE CONSTRAINT transactions_row_check;
ALTER TABLE finanzas.ledger_entries VALIDATE CONSTRAINT ledger_entries_row_check;

RESET statement_timeout;
RESET lock_timeout;

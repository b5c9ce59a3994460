-- 0005_ledger_validate_reversal_key.sql — validates the reversal key 0003 added NOT VALID (FOREIGN KEY (tenant_id,
-- reverses_transaction_id) → finanzas.transactions (tenant_id, id)). VALIDATE takes SHARE UPDATE EXCLUSIVE: postings
-- and reads go on while the headers are scanned. A reversal whose original is missing for its tenant makes it fail
-- with 23503 naming the constraint (1.0.0's reverse_transaction reverses only a transaction of the caller's tenant,
-- so the rows it wrote pass).
-- release: 1.1.0
-- transaction: none
-- down: irreversible — nothing to undo (validation changes no row; the key itself is 0003's)
-- breaking: no

SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE finanzas.transactions VALIDATE CONSTRAINT transactions_reverses_transaction_id_fkey;

RESET lock_timeout;
RESET statement_timeout;

-- 0094_ledger_one_row_check.down.sql — the ledger's seven value CHECKs back in place of ledger_entries_row_check and
-- transactions_row_check (every row passed the same rules, so they validate).
-- transaction: file

SET lock_timeout = '5s';
SET statement_timeout = '1min';

LOCK TABLE finanzas.transactions, finanzas.ledger_entries IN ACCESS EXCLUSIVE MODE;
ALTER TABLE finanzas.transactions
    ADD CONSTRAINT transactions_currency_check CHECK (currency ~ '^[A-Z]{3}$') NOT VALID,
    ADD CONSTRAINT transactions_description_check CHECK (length(description) BETWEEN 1 AND 500) NOT VALID,
    ADD CONSTRAINT transactions_not_self_reversal_check CHECK (reverses_transaction_id <> id) NOT VALID,
    DROP CONSTRAINT transactions_row_check;
ALTER TABLE finanzas.ledger_entries
    ADD CONSTRAINT ledger_entries_account_type_check CHECK (account_type IN (
        'CASH', 'BANK', 'ACCOUNTS_RECEIVABLE', 'ACCOUNTS_PAYABLE', 'CUSTOMER_CREDIT',
        'REVENUE', 'AD_SPEND', 'EXPENSE', 'TAX_PAYABLE', 'EQUITY', 'SUSPENSE')) NOT VALID,
    ADD CONSTRAINT ledger_entries_amount_check CHECK (amount > 0) NOT VALID,
    ADD CONSTRAINT ledger_entries_direction_check CHECK (direction IN (-1, 1)) NOT VALID,
    ADD CONSTRAINT ledger_entries_currency_check CHECK (currency ~ '^[A-Z]{3}$') NOT VALID,
    DROP CONSTRAINT ledger_entries_row_check;
DROP FUNCTION finanzas.ledger_entry_is_valid(text, numeric, smallint, text);
DROP FUNCTION finanzas.transaction_is_valid(uuid, text, text, uuid);
ALTER TABLE finanzas.transactions VALIDATE CONSTRAINT transactions_currency_check;
ALTER TABLE finanzas.transactions VALIDATE CONSTRAINT transactions_description_check;
ALTER TABLE finanzas.transactions VALIDATE CONSTRAINT transactions_not_self_reversal_check;
ALTER TABLE finanzas.ledger_entries VALIDATE CONSTRAINT ledger_entries_account_type_check;
ALTER TABLE finanzas.ledger_entries VALIDATE CONSTRAINT ledger_entries_amount_check;
ALTER TABLE finanzas.ledger_entries VALIDATE CONSTRAINT ledger_entries_direction_check;
ALTER TABLE finanzas.ledger_entries VALIDATE CONSTRAINT ledger_entries_currency_check;

RESET statement_timeout;
RESET lock_timeout;

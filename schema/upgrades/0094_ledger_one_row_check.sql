-- 0094_ledger_one_row_check.sql — issue 14: a posting rebuilt its tables' seven CHECKs from their stored text for
-- every INSERT statement (more instructions than its index entries). ledger_entries' four value CHECKs become one,
-- ledger_entries_row_check (finanzas.ledger_entry_is_valid), and transactions' three one, transactions_row_check
-- (finanzas.transaction_is_valid): the same rules, PL/pgSQL functions (a SQL function would be inlined back).
-- Added NOT VALID (no scan under the ACCESS EXCLUSIVE locks; 0095 validates them), then the old CHECKs are dropped.
-- release: 1.1.0
-- transaction: file
-- down: 0094_ledger_one_row_check.down.sql
-- breaking: contract — a direct INSERT that breaks a value rule of finanzas.ledger_entries or finanzas.transactions is refused (23514) naming ledger_entries_row_check or transactions_row_check instead of ledger_entries_account_type_check, ledger_entries_amount_check, ledger_entries_direction_check, ledger_entries_currency_check, transactions_currency_check, transactions_description_check or transactions_not_self_reversal_check; the rules and the functions' errors are unchanged

SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- The ledger rows' value rules, one function per table for its one CHECK (ledger_entries_row_check,
-- transactions_row_check): PostgreSQL rebuilds a table's CHECKs from their stored text for every INSERT statement,
-- and a posting's seven cost more than its index entries (issue 14). PL/pgSQL, not SQL: a SQL function would be
-- inlined back into the long expression. No SET clause: every name is qualified.
CREATE OR REPLACE FUNCTION finanzas.ledger_entry_is_valid(
    p_account_type text,
    p_amount numeric,
    p_direction smallint,
    p_currency text)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
BEGIN
    RETURN p_account_type OPERATOR(pg_catalog.=) ANY ('{CASH,BANK,ACCOUNTS_RECEIVABLE,ACCOUNTS_PAYABLE,CUSTOMER_CREDIT,REVENUE,AD_SPEND,EXPENSE,TAX_PAYABLE,EQUITY,SUSPENSE}'::text[])
           AND p_amount OPERATOR(pg_catalog.>) 0
           AND p_direction OPERATOR(pg_catalog.=) ANY ('{-1,1}'::smallint[])
           AND p_currency OPERATOR(pg_catalog.~) '^[A-Z]{3}$';
END
$$;
COMMENT ON FUNCTION finanzas.ledger_entry_is_valid(text, numeric, smallint, text) IS 'The CHECK ledger_entries_row_check: account_type is CASH, BANK, ACCOUNTS_RECEIVABLE, ACCOUNTS_PAYABLE, CUSTOMER_CREDIT, REVENUE, AD_SPEND, EXPENSE, TAX_PAYABLE, EQUITY or SUSPENSE, amount > 0, direction 1 or -1, currency three capital letters.';

CREATE OR REPLACE FUNCTION finanzas.transaction_is_valid(
    p_id uuid,
    p_currency text,
    p_description text,
    p_reverses_transaction_id uuid)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
BEGIN
    RETURN p_currency OPERATOR(pg_catalog.~) '^[A-Z]{3}$'
           AND (p_description IS NULL
                OR pg_catalog.length(p_description) OPERATOR(pg_catalog.>=) 1
                   AND pg_catalog.length(p_description) OPERATOR(pg_catalog.<=) 500)
           AND (p_reverses_transaction_id IS NULL OR p_reverses_transaction_id OPERATOR(pg_catalog.<>) p_id);
END
$$;
COMMENT ON FUNCTION finanzas.transaction_is_valid(uuid, text, text, uuid) IS 'The CHECK transactions_row_check: currency three capital letters, description NULL or 1-500 characters, a transaction does not reverse itself.';

REVOKE ALL ON FUNCTION finanzas.ledger_entry_is_valid(text, numeric, smallint, text),
                      finanzas.transaction_is_valid(uuid, text, text, uuid) FROM PUBLIC;
-- The row CHECKs call them with the inserting role's privileges: whoever may INSERT a row must be able to run them
-- (or a bad row would get 42501 instead of 23514). Pure tests of their arguments, not the API.
GRANT EXECUTE ON FUNCTION finanzas.ledger_entry_is_valid(text, numeric, smallint, text),
                          finanzas.transaction_is_valid(uuid, text, text, uuid) TO PUBLIC;

LOCK TABLE finanzas.transactions, finanzas.ledger_entries IN ACCESS EXCLUSIVE MODE;
ALTER TABLE finanzas.transactions
    ADD CONSTRAINT transactions_row_check
        CHECK (finanzas.transaction_is_valid(id, currency, description, reverses_transaction_id)) NOT VALID;
ALTER TABLE finanzas.transactions
    DROP CONSTRAINT transactions_currency_check,
    DROP CONSTRAINT transactions_description_check,
    DROP CONSTRAINT transactions_not_self_reversal_check;
ALTER TABLE finanzas.ledger_entries
    ADD CONSTRAINT ledger_entries_row_check
        CHECK (finanzas.ledger_entry_is_valid(account_type, amount, direction, currency)) NOT VALID;
ALTER TABLE finanzas.ledger_entries
    DROP CONSTRAINT ledger_entries_account_type_check,
    DROP CONSTRAINT ledger_entries_amount_check,
    DROP CONSTRAINT ledger_entries_direction_check,
    DROP CONSTRAINT ledger_entries_currency_check;

RESET statement_timeout;
RESET lock_timeout;

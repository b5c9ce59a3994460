-- 0004_ledger_stored_balances_backfill.sql — issue 14.1, second half: the legs posted before 0003 (entry ids up to
-- the boundary 0003 recorded; later legs were counted by 0003's trigger) are added to finanzas.account_balance_shards,
-- and only then, as the last statement, finanzas.account_balances reads the shards instead of summing the legs.
-- Balances are right at every commit: before this file's COMMIT the view sums the legs, after it the shards hold
-- every leg exactly once. No lock stronger than ROW EXCLUSIVE is held while the legs are read: postings go on.
-- Each account's total is added to the lowest shard whose advisory lock this transaction can take at once, as the
-- leg trigger does, so a concurrent posting to that account moves to another shard instead of waiting for it.
-- release: 1.1.0
-- transaction: file
-- transforms: finanzas.account_balance_shards
-- down: irreversible — the view would have to sum the legs again, while the shards keep what this backfill added
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- The guard against direct writes of the shards (LB112) lets this transaction's backfill through: this body is
-- never committed (it is replaced by the refusing one below, in the same transaction), so every other session keeps
-- running the committed, refusing body while it exists.
CREATE OR REPLACE FUNCTION finanzas.refuse_direct_balance_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;

DO $$
DECLARE
    boundary bigint := (SELECT b.last_value FROM finanzas.account_balances_backfill_boundary AS b);
    account record;
    account_key integer;
    free_shard integer;
BEGIN
    FOR account IN
        SELECT e.tenant_id,
               e.account_type,
               e.currency,
               coalesce(sum(e.amount) FILTER (WHERE e.direction = 1), 0)  AS total_debits,
               coalesce(sum(e.amount) FILTER (WHERE e.direction = -1), 0) AS total_credits,
               count(*)                                                   AS entry_count,
               max(e.posted_at)                                           AS last_posted_at
          FROM finanzas.ledger_entries AS e
         WHERE e.id <= boundary
         GROUP BY e.tenant_id, e.account_type, e.currency
    LOOP
        -- The shard finanzas.add_leg_to_balances would pick: its advisory lock is held to COMMIT, so no posting
        -- writes this row meanwhile (and none waits: each takes the next free shard).
        account_key := hashtext(account.tenant_id::text || account.account_type || account.currency);
        free_shard := 0;
        WHILE NOT pg_try_advisory_xact_lock(account_key, free_shard) LOOP
            free_shard := free_shard + 1;
        END LOOP;
        INSERT INTO finanzas.account_balance_shards AS s
               (tenant_id, account_type, currency, shard, total_debits, total_credits, entry_count, last_posted_at)
        VALUES (account.tenant_id, account.account_type, account.currency, free_shard, account.total_debits,
                account.total_credits, account.entry_count, account.last_posted_at)
        ON CONFLICT (tenant_id, account_type, currency, shard) DO UPDATE
           SET total_debits = s.total_debits + excluded.total_debits,
               total_credits = s.total_credits + excluded.total_credits,
               entry_count = s.entry_count + excluded.entry_count,
               last_posted_at = greatest(s.last_posted_at, excluded.last_posted_at);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION finanzas.refuse_direct_balance_change()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF pg_catalog.pg_trigger_depth() OPERATOR(pg_catalog.<) 2 THEN
        RAISE EXCEPTION USING ERRCODE = 'LB112',
            MESSAGE = pg_catalog.format('finanzas.account_balance_shards is maintained by the ledger: %s is not allowed',
                                        TG_OP),
            HINT = 'Post a transaction (or a reversal): its legs move the balances.';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;

-- 0001's scratch, read only by this file:
-- squawk-ignore ban-drop-sequence
DROP SEQUENCE finanzas.account_balances_backfill_boundary;

-- Last: from this COMMIT on, balances are read from the shards.
CREATE OR REPLACE VIEW finanzas.account_balances
WITH (security_invoker = true) AS
SELECT s.tenant_id,
       s.account_type,
       s.currency,
       sum(s.total_debits) - sum(s.total_credits) AS balance,
       sum(s.total_debits)                        AS total_debits,
       sum(s.total_credits)                       AS total_credits,
       sum(s.entry_count)::bigint                 AS entry_count,
       max(s.last_posted_at)                      AS last_posted_at
FROM finanzas.account_balance_shards AS s
GROUP BY s.tenant_id, s.account_type, s.currency;
COMMENT ON VIEW finanzas.account_balances IS 'Balance per tenant, account and currency (debits positive), summed from the stored shard rows (a few per account, whatever the size of the ledger); equal to SUM(amount * direction) over the legs at every commit. Security invoker: a tenant-bound session sees only its tenant.';
COMMENT ON COLUMN finanzas.account_balances.tenant_id IS 'Owning tenant.';
COMMENT ON COLUMN finanzas.account_balances.account_type IS 'Account.';
COMMENT ON COLUMN finanzas.account_balances.currency IS 'Currency of the balance.';
COMMENT ON COLUMN finanzas.account_balances.balance IS 'SUM(amount * direction): debits minus credits.';
COMMENT ON COLUMN finanzas.account_balances.total_debits IS 'Sum of debit amounts (direction = 1).';
COMMENT ON COLUMN finanzas.account_balances.total_credits IS 'Sum of credit amounts (direction = -1).';
COMMENT ON COLUMN finanzas.account_balances.entry_count IS 'Number of legs.';
COMMENT ON COLUMN finanzas.account_balances.last_posted_at IS 'Time of the latest leg.';

RESET lock_timeout;
RESET statement_timeout;

-- 0001_ledger_expand_for_tenant_keys.sql — the expand step of 0003's key swap (issue 12: the previous release's
-- calls keep working while the ledger is upgraded):
--   * post_transaction and reverse_transaction get the bodies 0003 used to install, whose INSERT … ON CONFLICT names
--     no key: they work under the 1.0.0 keys (id), (reverses_transaction_id) and under 0003's (tenant_id, id),
--     (tenant_id, reverses_transaction_id). 1.0.0's bodies named the old key (ON CONFLICT (id)): a call waiting on
--     0003's lock re-planned that INSERT after the swap and failed with 42P10. 0002's CREATE INDEX CONCURRENTLY,
--     between this file and 0003, waits for every transaction older than its snapshot, so no call still running a
--     1.0.0 body reaches 0003;
--   * the stored-balance table finanzas.account_balance_shards (empty; 0003 installs the leg trigger that fills it,
--     0004 backfills the legs before that trigger and switches finanzas.account_balances over to it), its guard
--     against direct writes (LB112), row-level security and grants. Created here, away from 0003's lock on the
--     ledger, because its foreign key locks iam.tenants.
-- release: 1.1.0
-- transaction: file
-- down: irreversible — 1.0.0's reverse_transaction answered a repeated reversal with LB110, which the retry promise of issue 17.11 withdrew
-- breaking: contract — a repeated identical reverse_transaction returns the reversal's id instead of LB110 (issue 17.11's retry promise); any direct write of stored balances is refused (LB112)
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE OR REPLACE FUNCTION finanzas.post_transaction(
    p_tenant_id uuid,
    p_legs jsonb,
    p_currency text DEFAULT 'EUR',
    p_description text DEFAULT NULL,
    p_transaction_id uuid DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tx_id uuid := coalesce(p_transaction_id, gen_random_uuid());
    leg_accounts text[];
    leg_amounts numeric[];
    leg_directions smallint[];
    leg_count bigint;
    leg_sum numeric;
    same_content boolean;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id);
    PERFORM iam.assert_text_argument('p_currency', p_currency, 3);
    IF p_currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB107',
            MESSAGE = format('p_currency must be an ISO 4217 code of three capital letters, got %L', p_currency);
    END IF;
    IF p_description IS NOT NULL THEN
        PERFORM iam.assert_text_argument('p_description', p_description, 500);
    END IF;

    SELECT array_agg(l.account_type), array_agg(l.amount), array_agg(l.direction),
           count(*), coalesce(sum(l.amount * l.direction), 0)
      INTO leg_accounts, leg_amounts, leg_directions, leg_count, leg_sum
      FROM finanzas.parse_legs(p_legs) AS l;
    IF leg_count < 2 THEN
        RAISE EXCEPTION USING ERRCODE = 'LB106',
            MESSAGE = format('a transaction needs at least 2 legs, got %s', leg_count);
    END IF;
    IF leg_sum <> 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'LB105',
            MESSAGE = format('unbalanced transaction: SUM(amount * direction) = %s', leg_sum);
    END IF;

    -- The header's check waits for the legs (inserted below) even if the caller said SET CONSTRAINTS ALL
    -- IMMEDIATE; every leg queues a check of its own.
    SET CONSTRAINTS finanzas.transactions_balanced DEFERRED;
    -- No conflict target: a conflict on ANY unique key of the header (not only the primary key) is a retry, so
    -- identical concurrent retries wait for each other and never raise 23505.
    INSERT INTO finanzas.transactions (id, tenant_id, currency, description)
    VALUES (tx_id, p_tenant_id, p_currency, p_description)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        -- The id was posted before by this tenant (a retry; a concurrent one was waited for): same content is a
        -- no-op, other content is refused.
        SELECT t.tenant_id = p_tenant_id AND t.currency = p_currency
               AND t.description IS NOT DISTINCT FROM p_description
               AND t.reverses_transaction_id IS NULL
               AND (SELECT array_agg(ROW(e.account_type, e.amount, e.direction)::text ORDER BY 1)
                      FROM finanzas.ledger_entries AS e
                     WHERE e.transaction_id = t.id AND e.tenant_id = t.tenant_id)
                 = (SELECT array_agg(ROW(l.a, l.m::numeric(19, 4), l.d)::text ORDER BY 1)
                      FROM unnest(leg_accounts, leg_amounts, leg_directions) AS l (a, m, d))
          INTO same_content
          FROM finanzas.transactions AS t WHERE t.tenant_id = p_tenant_id AND t.id = tx_id;
        IF same_content THEN
            RETURN tx_id;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'LB111',
            MESSAGE = format('transaction id %s was already used for a different posting', tx_id);
    END IF;
    INSERT INTO finanzas.ledger_entries (tenant_id, transaction_id, account_type, amount, direction, currency)
    SELECT p_tenant_id, tx_id, l.a, l.m, l.d, p_currency
      FROM unnest(leg_accounts, leg_amounts, leg_directions) WITH ORDINALITY AS l (a, m, d, n)
     ORDER BY l.n;
    RETURN tx_id;
END
$$;
COMMENT ON FUNCTION finanzas.post_transaction(uuid, jsonb, text, text, uuid) IS 'Posts a balanced transaction (legs: [{"account_type":…, "amount":…, "direction":1|-1}, …]) and returns its id (unique within the tenant). Idempotent when p_transaction_id is given: the same posting again, also concurrently, returns the id, a different one raises LB111; without p_transaction_id a retry posts again. Raises LB001–LB005, LB101–LB107, LB111.';

CREATE OR REPLACE FUNCTION finanzas.reverse_transaction(
    p_tenant_id uuid,
    p_transaction_id uuid,
    p_description text DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    original finanzas.transactions%ROWTYPE;
    reversal_id uuid := gen_random_uuid();
    reversal_description text := coalesce(p_description, format('reversal of %s', p_transaction_id));
    same_request boolean;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id);
    IF p_transaction_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_transaction_id must not be NULL';
    END IF;
    IF p_description IS NOT NULL THEN
        PERFORM iam.assert_text_argument('p_description', p_description, 500);
    END IF;
    SELECT * INTO original FROM finanzas.transactions AS t
     WHERE t.id = p_transaction_id AND t.tenant_id = p_tenant_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'LB109',
            MESSAGE = format('unknown transaction %s for tenant %s', p_transaction_id, p_tenant_id);
    END IF;

    SET CONSTRAINTS finanzas.transactions_balanced DEFERRED;
    -- Concurrent reversals of one transaction: the unique key (tenant_id, reverses_transaction_id) lets one in,
    -- the other waits and finds it taken.
    INSERT INTO finanzas.transactions (id, tenant_id, currency, description, reverses_transaction_id)
    VALUES (reversal_id, p_tenant_id, original.currency, reversal_description, p_transaction_id)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        -- Already reversed. The same request again (a retry whose answer was lost, or a concurrent twin) gets the
        -- reversal's id; a reversal with another description is a different request.
        SELECT t.id, t.description IS NOT DISTINCT FROM reversal_description
          INTO reversal_id, same_request
          FROM finanzas.transactions AS t
         WHERE t.tenant_id = p_tenant_id AND t.reverses_transaction_id = p_transaction_id;
        IF same_request THEN
            RETURN reversal_id;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'LB110',
            MESSAGE = format('transaction %s is already reversed by transaction %s', p_transaction_id, reversal_id);
    END IF;
    INSERT INTO finanzas.ledger_entries (tenant_id, transaction_id, account_type, amount, direction, currency)
    SELECT e.tenant_id, reversal_id, e.account_type, e.amount, -e.direction, e.currency
      FROM finanzas.ledger_entries AS e
     WHERE e.transaction_id = p_transaction_id AND e.tenant_id = p_tenant_id
     ORDER BY e.id;
    RETURN reversal_id;
END
$$;
COMMENT ON FUNCTION finanzas.reverse_transaction(uuid, uuid, text) IS 'Posts the mirror image of a transaction (every leg with the opposite direction) and returns the new id. A transaction is reversed at most once: the same reversal again (same description, or both NULL) returns the existing reversal''s id, one with another description raises LB110; unknown id for the tenant raises LB109.';

-- Stored balances. Legs only ever add to an account, so the balance is a sum of shard rows per (tenant, account,
-- currency), each changed in the statement that inserts the legs. A transaction adds to the lowest-numbered shard of
-- the account whose transaction-level advisory lock it can take at once (pg_try_advisory_xact_lock, never waiting):
-- postings to one hot account never wait for each other, and an account has at most as many shards as
-- transactions ever posted to it at the same moment.
CREATE TABLE IF NOT EXISTS finanzas.account_balance_shards (
    tenant_id      uuid        NOT NULL,
    account_type   text        NOT NULL,
    currency       text        NOT NULL,
    shard          integer     NOT NULL,
    total_debits   numeric     NOT NULL DEFAULT 0,
    total_credits  numeric     NOT NULL DEFAULT 0,
    entry_count    bigint      NOT NULL DEFAULT 0,
    last_posted_at timestamptz NOT NULL,
    CONSTRAINT account_balance_shards_pkey PRIMARY KEY (tenant_id, account_type, currency, shard),
    CONSTRAINT account_balance_shards_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES iam.tenants (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT account_balance_shards_totals_check CHECK (total_debits >= 0 AND total_credits >= 0 AND entry_count > 0)
);
COMMENT ON TABLE finanzas.account_balance_shards IS 'Stored balances: per (tenant, account, currency) one or more shard rows whose sums are the account''s totals (view finanzas.account_balances). Written only by the ledger''s own trigger when legs are inserted (any other write: LB112).';
COMMENT ON COLUMN finanzas.account_balance_shards.tenant_id IS 'Owning tenant (FK iam.tenants ON DELETE RESTRICT).';
COMMENT ON COLUMN finanzas.account_balance_shards.account_type IS 'Account, as in ledger_entries.account_type.';
COMMENT ON COLUMN finanzas.account_balance_shards.currency IS 'Currency of the totals.';
COMMENT ON COLUMN finanzas.account_balance_shards.shard IS 'Shard number, 0 and up: concurrent transactions posting to one account each use the lowest shard no other of them holds (advisory lock per account and shard).';
COMMENT ON COLUMN finanzas.account_balance_shards.total_debits IS 'Sum of the amounts of the debit legs (direction = 1) counted in this shard.';
COMMENT ON COLUMN finanzas.account_balance_shards.total_credits IS 'Sum of the amounts of the credit legs (direction = -1) counted in this shard.';
COMMENT ON COLUMN finanzas.account_balance_shards.entry_count IS 'Number of legs counted in this shard.';
COMMENT ON COLUMN finanzas.account_balance_shards.last_posted_at IS 'Latest posted_at of the legs counted in this shard.';

CREATE OR REPLACE FUNCTION finanzas.add_leg_to_balances()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    account_key integer := hashtext(NEW.tenant_id::text || NEW.account_type || NEW.currency);
    free_shard integer := 0;
BEGIN
    -- The shard this transaction may write for the leg's account: the lowest whose advisory lock it holds or can
    -- take at once. Only this trigger writes shard rows, always under that lock, so the UPDATE/INSERT below never
    -- wait for a row (no deadlock whatever order legs come in). Each lock it fails to take is held by another
    -- open transaction, so the loop ends within as many steps as there are open transactions.
    WHILE NOT pg_try_advisory_xact_lock(account_key, free_shard) LOOP
        free_shard := free_shard + 1;
    END LOOP;
    UPDATE finanzas.account_balance_shards AS s
       SET total_debits = s.total_debits + CASE WHEN NEW.direction = 1 THEN NEW.amount ELSE 0 END,
           total_credits = s.total_credits + CASE WHEN NEW.direction = -1 THEN NEW.amount ELSE 0 END,
           entry_count = s.entry_count + 1,
           last_posted_at = greatest(s.last_posted_at, NEW.posted_at)
     WHERE s.tenant_id = NEW.tenant_id AND s.account_type = NEW.account_type AND s.currency = NEW.currency
       AND s.shard = free_shard;
    IF NOT FOUND THEN
        -- A shard new to this statement's snapshot (or committed since it was taken, hence ON CONFLICT).
        INSERT INTO finanzas.account_balance_shards AS s
               (tenant_id, account_type, currency, shard, total_debits, total_credits, entry_count, last_posted_at)
        VALUES (NEW.tenant_id, NEW.account_type, NEW.currency, free_shard,
                CASE WHEN NEW.direction = 1 THEN NEW.amount ELSE 0 END,
                CASE WHEN NEW.direction = -1 THEN NEW.amount ELSE 0 END, 1, NEW.posted_at)
        ON CONFLICT (tenant_id, account_type, currency, shard) DO UPDATE
           SET total_debits = s.total_debits + excluded.total_debits,
               total_credits = s.total_credits + excluded.total_credits,
               entry_count = s.entry_count + 1,
               last_posted_at = greatest(s.last_posted_at, excluded.last_posted_at);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION finanzas.add_leg_to_balances() IS 'Trigger (after each leg INSERT): adds the leg to the lowest shard row of its account whose advisory lock no other open transaction holds (creating the row if needed); never waits for a row lock.';

-- Only the leg trigger (add_leg_to_balances, installed by 0003) writes balances: a write from any other statement
-- (trigger depth 1, e.g. leadboost_app after the troubleshooting GRANT block, or the owner) is refused, so they
-- always equal the legs.
-- No SET clause (a configuration save/restore per balance row written): every name in it is qualified.
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
COMMENT ON FUNCTION finanzas.refuse_direct_balance_change() IS 'Trigger: refuses (LB112) INSERT, UPDATE, DELETE and TRUNCATE of account_balance_shards except from the ledger''s balance trigger.';

DROP TRIGGER IF EXISTS account_balance_shards_maintained ON finanzas.account_balance_shards;
CREATE TRIGGER account_balance_shards_maintained
    BEFORE INSERT OR UPDATE OR DELETE ON finanzas.account_balance_shards
    FOR EACH ROW EXECUTE FUNCTION finanzas.refuse_direct_balance_change();
ALTER TABLE finanzas.account_balance_shards ENABLE ALWAYS TRIGGER account_balance_shards_maintained;

DROP TRIGGER IF EXISTS account_balance_shards_no_truncate ON finanzas.account_balance_shards;
CREATE TRIGGER account_balance_shards_no_truncate
    BEFORE TRUNCATE ON finanzas.account_balance_shards
    FOR EACH STATEMENT EXECUTE FUNCTION finanzas.refuse_direct_balance_change();
ALTER TABLE finanzas.account_balance_shards ENABLE ALWAYS TRIGGER account_balance_shards_no_truncate;

-- Scratch for 0003 and 0004: the last entry id 0004's backfill counts (set by 0003 under its lock, dropped by 0004).
CREATE SEQUENCE finanzas.account_balances_backfill_boundary AS bigint MINVALUE 0 START WITH 0;

ALTER TABLE finanzas.account_balance_shards ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON finanzas.account_balance_shards;
CREATE POLICY tenant_isolation ON finanzas.account_balance_shards
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON finanzas.account_balance_shards IS 'Roles subject to RLS see only stored balances of the tenant bound with app.tenant_id.';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA finanzas FROM PUBLIC;
GRANT USAGE ON SCHEMA finanzas TO leadboost_app;
GRANT SELECT ON finanzas.transactions, finanzas.ledger_entries, finanzas.account_balance_shards,
                finanzas.account_balances TO leadboost_app;
GRANT EXECUTE ON FUNCTION finanzas.post_transaction(uuid, jsonb, text, text, uuid),
                          finanzas.reverse_transaction(uuid, uuid, text) TO leadboost_app;

RESET lock_timeout;
RESET statement_timeout;

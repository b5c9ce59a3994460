-- 002_schema_finanzas.sql — schema finanzas: the append-only double-entry ledger.
--
-- A posting is a header row in finanzas.transactions plus two or more legs in finanzas.ledger_entries,
-- written in ONE database transaction. The database, not the caller, guarantees at COMMIT that
-- SUM(amount * direction) = 0 over the legs (deferred constraint triggers on the header AND on every leg, so a
-- leg inserted after an early SET CONSTRAINTS … IMMEDIATE is checked again), that all legs share the header's
-- tenant and currency (composite foreign key), and that no leg is ever added to a header committed earlier.
-- Transaction ids are scoped to the tenant (primary key (tenant_id, id)): another tenant's ids are neither
-- visible nor reserved. Every leg also moves the stored balance of its account (account_balance_shards) in the
-- same statement, whoever inserts it, so balances are read without summing the ledger.
-- Rows are never updated or deleted (statement triggers, enabled ALWAYS); corrections are reversals.
-- Requires 001. Plain SQL, idempotent.

-- Fail fast instead of queueing behind the application's locks (schema/README.md, "Lock and statement
-- timeouts"); reset at the end of the file.
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE SCHEMA IF NOT EXISTS finanzas;
COMMENT ON SCHEMA finanzas IS 'Immutable double-entry ledger: transactions (headers) and ledger_entries (legs), append-only.';

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

CREATE TABLE IF NOT EXISTS finanzas.transactions (
    id                      uuid        NOT NULL DEFAULT gen_random_uuid(),
    tenant_id               uuid        NOT NULL,
    currency                text        NOT NULL,
    description             text,
    reverses_transaction_id uuid,
    posted_at               timestamptz NOT NULL DEFAULT now(),
    created_xid             xid8        NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT transactions_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT transactions_id_tenant_currency_key UNIQUE (id, tenant_id, currency),
    CONSTRAINT transactions_tenant_id_reverses_transaction_id_key UNIQUE (tenant_id, reverses_transaction_id),
    CONSTRAINT transactions_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES iam.tenants (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT transactions_reverses_transaction_id_fkey FOREIGN KEY (tenant_id, reverses_transaction_id)
        REFERENCES finanzas.transactions (tenant_id, id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT transactions_row_check
        CHECK (finanzas.transaction_is_valid(id, currency, description, reverses_transaction_id))
);
COMMENT ON TABLE finanzas.transactions IS 'Posting headers: one row per balanced ledger transaction. Append-only (UPDATE, DELETE, TRUNCATE refused with LB901).';
COMMENT ON COLUMN finanzas.transactions.id IS 'Transaction identifier, unique within its tenant (primary key (tenant_id, id)); a caller-chosen id makes finanzas.post_transaction idempotent.';
COMMENT ON COLUMN finanzas.transactions.tenant_id IS 'Owning tenant (FK iam.tenants ON DELETE RESTRICT); every leg carries the same tenant.';
COMMENT ON COLUMN finanzas.transactions.currency IS 'ISO 4217 code (three capital letters); every leg carries the same currency.';
COMMENT ON COLUMN finanzas.transactions.description IS 'Free text, 1–500 characters, or NULL.';
COMMENT ON COLUMN finanzas.transactions.reverses_transaction_id IS 'For a reversal, the transaction of the same tenant it cancels (FK (tenant_id, reverses_transaction_id)); unique per tenant, so a transaction is reversed at most once.';
COMMENT ON COLUMN finanzas.transactions.posted_at IS 'Time of posting (start of the writing database transaction).';
COMMENT ON COLUMN finanzas.transactions.created_xid IS 'Database transaction that created the header (set by trigger); legs are accepted only from that same database transaction.';

CREATE TABLE IF NOT EXISTS finanzas.ledger_entries (
    id             bigint         GENERATED ALWAYS AS IDENTITY,
    tenant_id      uuid           NOT NULL,
    transaction_id uuid           NOT NULL,
    account_type   text           NOT NULL,
    amount         numeric(19, 4) NOT NULL,
    direction      smallint       NOT NULL,
    currency       text           NOT NULL,
    posted_at      timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT ledger_entries_pkey PRIMARY KEY (id),
    CONSTRAINT ledger_entries_transaction_fkey FOREIGN KEY (transaction_id, tenant_id, currency)
        REFERENCES finanzas.transactions (id, tenant_id, currency) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT ledger_entries_row_check
        CHECK (finanzas.ledger_entry_is_valid(account_type, amount, direction, currency))
);
COMMENT ON TABLE finanzas.ledger_entries IS 'Ledger legs (double entry). Append-only: UPDATE, DELETE and TRUNCATE are refused (LB901). The legs of each transaction sum to zero (checked at COMMIT).';
COMMENT ON COLUMN finanzas.ledger_entries.id IS 'Entry number, increasing in insertion order.';
COMMENT ON COLUMN finanzas.ledger_entries.tenant_id IS 'Owning tenant, equal to the header''s (part of the composite FK to finanzas.transactions, whose tenant_id references iam.tenants ON DELETE RESTRICT).';
COMMENT ON COLUMN finanzas.ledger_entries.transaction_id IS 'The header this leg belongs to (composite FK with tenant_id and currency).';
COMMENT ON COLUMN finanzas.ledger_entries.account_type IS 'Account the leg moves: CASH, BANK, ACCOUNTS_RECEIVABLE, ACCOUNTS_PAYABLE, CUSTOMER_CREDIT, REVENUE, AD_SPEND, EXPENSE, TAX_PAYABLE, EQUITY or SUSPENSE.';
COMMENT ON COLUMN finanzas.ledger_entries.amount IS 'Strictly positive amount, at most 4 decimals; the sign lives in direction.';
COMMENT ON COLUMN finanzas.ledger_entries.direction IS '1 = debit, -1 = credit. A balanced transaction has SUM(amount * direction) = 0.';
COMMENT ON COLUMN finanzas.ledger_entries.currency IS 'ISO 4217 code, equal to the header''s.';
COMMENT ON COLUMN finanzas.ledger_entries.posted_at IS 'Time of posting (start of the writing database transaction).';

CREATE INDEX IF NOT EXISTS ledger_entries_transaction_id_idx ON finanzas.ledger_entries (transaction_id);
CREATE INDEX IF NOT EXISTS ledger_entries_tenant_account_idx
    ON finanzas.ledger_entries (tenant_id, account_type, currency);
CREATE INDEX IF NOT EXISTS transactions_tenant_posted_at_idx ON finanzas.transactions (tenant_id, posted_at);

-- Append-only (iam.refuse_append_only_change): corrections are reversals.
DROP TRIGGER IF EXISTS ledger_entries_append_only ON finanzas.ledger_entries;
CREATE TRIGGER ledger_entries_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON finanzas.ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION iam.refuse_append_only_change(
        'Correct a posting with finanzas.reverse_transaction().');
ALTER TABLE finanzas.ledger_entries ENABLE ALWAYS TRIGGER ledger_entries_append_only;

DROP TRIGGER IF EXISTS transactions_append_only ON finanzas.transactions;
CREATE TRIGGER transactions_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON finanzas.transactions
    FOR EACH STATEMENT EXECUTE FUNCTION iam.refuse_append_only_change(
        'Correct a posting with finanzas.reverse_transaction().');
ALTER TABLE finanzas.transactions ENABLE ALWAYS TRIGGER transactions_append_only;

-- The header remembers the database transaction that created it, whatever the INSERT said.
CREATE OR REPLACE FUNCTION finanzas.stamp_transaction_xid()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.created_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION finanzas.stamp_transaction_xid() IS 'Trigger: sets transactions.created_xid to the inserting database transaction.';

DROP TRIGGER IF EXISTS transactions_stamp_xid ON finanzas.transactions;
CREATE TRIGGER transactions_stamp_xid
    BEFORE INSERT ON finanzas.transactions
    FOR EACH ROW EXECUTE FUNCTION finanzas.stamp_transaction_xid();
ALTER TABLE finanzas.transactions ENABLE ALWAYS TRIGGER transactions_stamp_xid;

-- Every leg insert, before anything is read: (1) a restricted session writing a leg of a tenant it is not bound to
-- is left to row-level security, which refuses it (42501) — this trigger reads nothing for it, so a known and an
-- unknown transaction id of another tenant answer alike; (2) a restricted role may not choose the entry id
-- (OVERRIDING SYSTEM VALUE could take the ids other tenants' postings are about to draw); (3) a leg may join only a
-- header of its tenant created by the same database transaction: committed postings are closed.
-- No SET clause (it would cost a configuration save/restore per leg): its only caller pins the search_path, and
-- the sequence is named by a qualified literal.
CREATE OR REPLACE FUNCTION finanzas.entry_id_was_drawn(p_id bigint)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    RETURN p_id OPERATOR(pg_catalog.=) pg_catalog.currval('finanzas.ledger_entries_id_seq'::pg_catalog.regclass);
EXCEPTION WHEN object_not_in_prerequisite_state THEN
    RETURN false;  -- this session never drew an entry id: the id was chosen by the INSERT
END
$$;
COMMENT ON FUNCTION finanzas.entry_id_was_drawn(bigint) IS 'True when the id is the one the entry sequence last handed to this session (the identity default of the row being inserted), false for an id the INSERT chose.';

CREATE OR REPLACE FUNCTION finanzas.check_entry_transaction_open()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    header_xid xid8;
BEGIN
    -- The bound tenant's own row (the usual case) is recognised from the setting's text without a function call.
    IF NEW.tenant_id::text IS DISTINCT FROM current_setting('app.tenant_id', true)
       AND NEW.tenant_id IS DISTINCT FROM iam.current_tenant_id() AND NOT iam.calling_role_is_unrestricted() THEN
        RETURN NEW;  -- another tenant's row: row-level security refuses it (42501), nothing was looked up
    END IF;
    IF NOT finanzas.entry_id_was_drawn(NEW.id) AND NOT iam.calling_role_is_unrestricted() THEN
        RAISE EXCEPTION USING ERRCODE = 'LB113',
            MESSAGE = format('ledger entry id %s was chosen by the INSERT: entry ids come from their sequence', NEW.id),
            HINT = 'Leave ledger_entries.id out of the INSERT (no OVERRIDING SYSTEM VALUE).';
    END IF;
    SELECT t.created_xid INTO header_xid FROM finanzas.transactions AS t
     WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.transaction_id;
    -- No header of this tenant: the foreign key reports it (23503).
    IF FOUND AND header_xid <> pg_current_xact_id() THEN
        RAISE EXCEPTION USING ERRCODE = 'LB108',
            MESSAGE = format('transaction %s is already committed: legs cannot be added to it', NEW.transaction_id);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION finanzas.check_entry_transaction_open() IS 'Trigger: leaves a leg of a tenant the restricted session is not bound to to row-level security (reads nothing); refuses an entry id chosen by a restricted role (LB113) and a leg whose header was committed by an earlier database transaction (LB108).';

DROP TRIGGER IF EXISTS ledger_entries_transaction_open ON finanzas.ledger_entries;
CREATE TRIGGER ledger_entries_transaction_open
    BEFORE INSERT ON finanzas.ledger_entries
    FOR EACH ROW EXECUTE FUNCTION finanzas.check_entry_transaction_open();
ALTER TABLE finanzas.ledger_entries ENABLE ALWAYS TRIGGER ledger_entries_transaction_open;

-- The balance rule. Each header AND each leg queues a check of its transaction, deferred to COMMIT: SET CONSTRAINTS
-- … IMMEDIATE can only make a queued check run early, and a leg inserted after that queues a check of its own, which
-- then runs at the end of its statement (IMMEDIATE) or at COMMIT (DEFERRED). So the last leg's check always sees
-- every leg, for every writer.
CREATE OR REPLACE FUNCTION finanzas.check_transaction_balanced()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tx_id uuid;
    leg_count bigint;
    leg_sum numeric;
BEGIN
    IF TG_TABLE_NAME = 'ledger_entries' THEN
        tx_id := NEW.transaction_id;
    ELSE
        tx_id := NEW.id;
    END IF;
    SELECT count(*), coalesce(sum(e.amount * e.direction), 0)
      INTO leg_count, leg_sum
      FROM finanzas.ledger_entries AS e
     WHERE e.transaction_id = tx_id AND e.tenant_id = NEW.tenant_id;
    IF leg_count < 2 THEN
        RAISE EXCEPTION USING ERRCODE = 'LB106',
            MESSAGE = format('transaction %s has %s leg(s): at least 2 are required', tx_id, leg_count);
    END IF;
    IF leg_sum <> 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'LB105',
            MESSAGE = format('transaction %s is unbalanced: SUM(amount * direction) = %s', tx_id, leg_sum);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION finanzas.check_transaction_balanced() IS 'Constraint trigger (deferred to COMMIT) on headers and on legs: the transaction has at least 2 legs (LB106) and they sum to zero (LB105).';

DROP TRIGGER IF EXISTS transactions_balanced ON finanzas.transactions;
CREATE CONSTRAINT TRIGGER transactions_balanced
    AFTER INSERT ON finanzas.transactions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finanzas.check_transaction_balanced();
ALTER TABLE finanzas.transactions ENABLE ALWAYS TRIGGER transactions_balanced;

DROP TRIGGER IF EXISTS ledger_entries_balanced ON finanzas.ledger_entries;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced
    AFTER INSERT ON finanzas.ledger_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finanzas.check_transaction_balanced();
ALTER TABLE finanzas.ledger_entries ENABLE ALWAYS TRIGGER ledger_entries_balanced;

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

DROP TRIGGER IF EXISTS ledger_entries_balances ON finanzas.ledger_entries;
CREATE TRIGGER ledger_entries_balances
    AFTER INSERT ON finanzas.ledger_entries
    FOR EACH ROW EXECUTE FUNCTION finanzas.add_leg_to_balances();
ALTER TABLE finanzas.ledger_entries ENABLE ALWAYS TRIGGER ledger_entries_balances;

-- Only the trigger above writes balances: a write from any other statement (trigger depth 1, e.g. leadboost_app
-- after the troubleshooting GRANT block, or the owner) is refused, so they always equal the legs.
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

-- Parses and validates a legs document; returns the legs as rows. All errors name the leg (1-based).
CREATE OR REPLACE FUNCTION finanzas.parse_legs(p_legs jsonb)
RETURNS TABLE (account_type text, amount numeric, direction smallint)
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    leg jsonb;
    n integer := 0;
    amt numeric;
BEGIN
    IF p_legs IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_legs must not be NULL';
    END IF;
    IF jsonb_typeof(p_legs) <> 'array' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB101',
            MESSAGE = format('p_legs must be a JSON array of legs, got %s', jsonb_typeof(p_legs));
    END IF;
    IF jsonb_array_length(p_legs) > 100 THEN
        RAISE EXCEPTION USING ERRCODE = 'LB101',
            MESSAGE = format('p_legs has %s legs: at most 100 are allowed', jsonb_array_length(p_legs));
    END IF;
    FOR leg IN SELECT value FROM jsonb_array_elements(p_legs) LOOP
        n := n + 1;
        IF jsonb_typeof(leg) <> 'object' THEN
            RAISE EXCEPTION USING ERRCODE = 'LB101',
                MESSAGE = format('leg %s must be a JSON object, got %s', n, jsonb_typeof(leg));
        END IF;
        IF NOT (leg ?& ARRAY['account_type', 'amount', 'direction'])
           OR EXISTS (SELECT 1 FROM jsonb_object_keys(leg) AS k
                      WHERE k NOT IN ('account_type', 'amount', 'direction')) THEN
            RAISE EXCEPTION USING ERRCODE = 'LB101',
                MESSAGE = format('leg %s must have exactly the keys account_type, amount, direction: %s', n, left(leg::text, 200));
        END IF;
        IF jsonb_typeof(leg -> 'account_type') <> 'string' OR (leg ->> 'account_type') NOT IN (
            'CASH', 'BANK', 'ACCOUNTS_RECEIVABLE', 'ACCOUNTS_PAYABLE', 'CUSTOMER_CREDIT',
            'REVENUE', 'AD_SPEND', 'EXPENSE', 'TAX_PAYABLE', 'EQUITY', 'SUSPENSE') THEN
            RAISE EXCEPTION USING ERRCODE = 'LB104',
                MESSAGE = format('leg %s: unknown account_type %s', n, left((leg -> 'account_type')::text, 100));
        END IF;
        IF jsonb_typeof(leg -> 'amount') <> 'number' THEN
            RAISE EXCEPTION USING ERRCODE = 'LB102',
                MESSAGE = format('leg %s: amount must be a JSON number, got %s', n, left((leg -> 'amount')::text, 100));
        END IF;
        amt := (leg ->> 'amount')::numeric;
        IF amt <= 0 OR amt >= 1e15 OR amt <> round(amt, 4) THEN
            RAISE EXCEPTION USING ERRCODE = 'LB102',
                MESSAGE = format('leg %s: amount must be > 0, < 1e15 and have at most 4 decimals, got %s', n, left(amt::text, 100));
        END IF;
        IF (leg -> 'direction') NOT IN ('1'::jsonb, '-1'::jsonb) THEN
            RAISE EXCEPTION USING ERRCODE = 'LB103',
                MESSAGE = format('leg %s: direction must be 1 (debit) or -1 (credit), got %s', n, left((leg -> 'direction')::text, 100));
        END IF;
        account_type := leg ->> 'account_type';
        amount := amt;
        direction := (leg ->> 'direction')::numeric;  -- JSON 1.0 is the number 1 (its text is not a smallint)
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION finanzas.parse_legs(jsonb) IS 'Validates a legs document ([{"account_type":…, "amount":…, "direction":1|-1}, …], at most 100) and returns its rows; raises LB001, LB101, LB102, LB103 or LB104.';

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
    bound text := current_setting('app.tenant_id', true);
    tx_id uuid := coalesce(p_transaction_id, gen_random_uuid());
    tenant_status text;
    legs_valid boolean;
    leg jsonb;
    leg_amount numeric;
    leg_accounts text[];
    leg_amounts numeric[];
    leg_directions smallint[];
    leg_count bigint;
    leg_sum numeric;
    same_content boolean;
BEGIN
    -- The usual call (a binding spelled as p_tenant_id or an unbound superuser, plain arguments, well-formed legs)
    -- is checked by one expression and one query: the tenant's status read with the legs, each leg validated and
    -- collected in the same pass. Anything else runs the checks one by one, in 1.0.0's order (tenant, currency,
    -- description, then the legs in order), so the errors are those of 1.0.0.
    IF (bound = p_tenant_id::text OR (coalesce(bound, '') = '' AND p_tenant_id IS NOT NULL
                                      AND current_setting('is_superuser') = 'on')) IS NOT TRUE THEN
        PERFORM iam.assert_tenant_access(p_tenant_id);
    END IF;
    IF (p_currency ~ '^[A-Z]{3}$' AND (p_description IS NULL OR length(p_description) BETWEEN 1 AND 500)
        AND jsonb_typeof(p_legs) = 'array' AND jsonb_array_length(p_legs) <= 100) IS TRUE THEN
        SELECT t.status INTO tenant_status FROM iam.tenants AS t WHERE t.id = p_tenant_id;
        -- Each leg by expressions alone (no query per leg): a leg that fails any of them sends the call to
        -- parse_legs, which says which leg and why.
        legs_valid := true;
        leg_accounts := '{}';
        leg_amounts := '{}';
        leg_directions := '{}';
        leg_sum := 0;
        FOR i IN 0 .. jsonb_array_length(p_legs) - 1 LOOP
            leg := p_legs -> i;
            -- A number only for an object with a numeric amount. Tested first: AND stops at the first false (not
            -- at a NULL), and the key subtraction below would refuse a leg that is not an object.
            leg_amount := CASE WHEN jsonb_typeof(leg) = 'object' AND jsonb_typeof(leg -> 'amount') = 'number'
                           THEN (leg ->> 'amount')::numeric END;
            IF (leg_amount IS NOT NULL AND leg_amount > 0 AND leg_amount < 1e15 AND leg_amount = round(leg_amount, 4)
                AND (leg - '{account_type,amount,direction}'::text[]) = '{}'::jsonb
                AND jsonb_typeof(leg -> 'account_type') = 'string'
                AND (leg ->> 'account_type') IN ('CASH', 'BANK', 'ACCOUNTS_RECEIVABLE', 'ACCOUNTS_PAYABLE',
                                                 'CUSTOMER_CREDIT', 'REVENUE', 'AD_SPEND', 'EXPENSE', 'TAX_PAYABLE',
                                                 'EQUITY', 'SUSPENSE')
                AND (leg -> 'direction') IN ('1'::jsonb, '-1'::jsonb)) IS NOT TRUE THEN
                legs_valid := false;
                EXIT;
            END IF;
            leg_accounts := leg_accounts || (leg ->> 'account_type');
            leg_amounts := leg_amounts || leg_amount;
            leg_directions := leg_directions || (leg ->> 'direction')::numeric::smallint;
            leg_sum := leg_sum + leg_amount * (leg ->> 'direction')::numeric;
        END LOOP;
        leg_count := cardinality(leg_accounts);
    END IF;
    IF legs_valid IS NOT TRUE OR tenant_status IS DISTINCT FROM 'ACTIVE' THEN
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
    END IF;
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
               -- Legs compared as sorted lists (a multiset): the same legs in another order are the same posting.
               AND (SELECT array_agg(ROW(e.account_type, e.amount, e.direction)::text
                                     ORDER BY ROW(e.account_type, e.amount, e.direction)::text)
                      FROM finanzas.ledger_entries AS e
                     WHERE e.transaction_id = t.id AND e.tenant_id = t.tenant_id)
                 = (SELECT array_agg(ROW(l.a, l.m::numeric(19, 4), l.d)::text
                                     ORDER BY ROW(l.a, l.m::numeric(19, 4), l.d)::text)
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

ALTER TABLE finanzas.transactions ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON finanzas.transactions;
CREATE POLICY tenant_isolation ON finanzas.transactions
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON finanzas.transactions IS 'Roles subject to RLS see and write only rows of the tenant bound with app.tenant_id.';

ALTER TABLE finanzas.ledger_entries ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON finanzas.ledger_entries;
CREATE POLICY tenant_isolation ON finanzas.ledger_entries
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON finanzas.ledger_entries IS 'Roles subject to RLS see and write only rows of the tenant bound with app.tenant_id.';

ALTER TABLE finanzas.account_balance_shards ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON finanzas.account_balance_shards;
CREATE POLICY tenant_isolation ON finanzas.account_balance_shards
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON finanzas.account_balance_shards IS 'Roles subject to RLS see only stored balances of the tenant bound with app.tenant_id.';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA finanzas FROM PUBLIC;
-- The row CHECKs call them with the inserting role's privileges: whoever may INSERT a row must be able to run them
-- (or a bad row would get 42501 instead of 23514). Pure tests of their arguments, not the API.
GRANT EXECUTE ON FUNCTION finanzas.ledger_entry_is_valid(text, numeric, smallint, text),
                          finanzas.transaction_is_valid(uuid, text, text, uuid) TO PUBLIC;
GRANT USAGE ON SCHEMA finanzas TO leadboost_app;
GRANT SELECT ON finanzas.transactions, finanzas.ledger_entries, finanzas.account_balance_shards,
                finanzas.account_balances TO leadboost_app;
GRANT EXECUTE ON FUNCTION finanzas.post_transaction(uuid, jsonb, text, text, uuid),
                          finanzas.reverse_transaction(uuid, uuid, text) TO leadboost_app;

RESET statement_timeout;
RESET lock_timeout;

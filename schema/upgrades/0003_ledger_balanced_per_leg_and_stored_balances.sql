-- 0003_ledger_balanced_per_leg_and_stored_balances.sql — the finanzas ledger of issues 17 and 14, the contract step
-- after 0001 (new function bodies, the stored-balance table) and 0002 (the new keys' indexes, built concurrently):
--   * the balance check also fires per leg (deferred constraint trigger ledger_entries_balanced), so SET CONSTRAINTS
--     … IMMEDIATE before further legs can no longer let an unbalanced posting commit (17.1);
--   * transaction ids are scoped to the tenant (primary key (tenant_id, id), reversal key and FK with tenant_id):
--     no existence oracle or squatting across tenants (17.4, 17.6); the leg trigger checks the binding before it
--     reads (17.3) and refuses entry ids chosen by a restricted role (LB113, 17.4);
--   * from its COMMIT every new leg is added to finanzas.account_balance_shards by a row trigger (14.1); the legs
--     already there are backfilled by 0004, which then switches the view finanzas.account_balances to the shards.
--     Until then the view keeps its 1.0.0 definition (the sum over the legs), so balances are right at every commit.
-- Only catalog changes run under this file's ACCESS EXCLUSIVE locks, none reads the rows: the reversal key's FOREIGN
-- KEY is added NOT VALID (0005 validates it), and the backfill's boundary is recorded from the entry sequence.
-- release: 1.1.0
-- transaction: file
-- down: irreversible — afterwards two tenants may hold the same transaction id, which the 1.0.0 primary key (id) cannot hold
-- breaking: contract — a transaction id another tenant used is no longer refused (LB111): the isolation promise of issue 17; a restricted role's direct INSERT with OVERRIDING SYSTEM VALUE on ledger_entries is refused (LB113)
SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- Every lock this file needs, taken first and in the order the application takes them: a posting locks
-- transactions, then ledger_entries (a balance read locks the view, then ledger_entries; this file leaves the view
-- alone). Taken one at a time later, a call holding one while waiting for the other could deadlock with it.
LOCK TABLE finanzas.transactions, finanzas.ledger_entries IN ACCESS EXCLUSIVE MODE;

-- Tenant-scoped keys (indexes built by 0002).
ALTER TABLE finanzas.transactions DROP CONSTRAINT transactions_reverses_transaction_id_fkey;
ALTER TABLE finanzas.transactions DROP CONSTRAINT transactions_reverses_transaction_id_key;
ALTER TABLE finanzas.transactions DROP CONSTRAINT transactions_pkey;
ALTER TABLE finanzas.transactions
    ADD CONSTRAINT transactions_pkey PRIMARY KEY USING INDEX transactions_tenant_id_id_idx;
ALTER TABLE finanzas.transactions ADD CONSTRAINT transactions_tenant_id_reverses_transaction_id_key
    UNIQUE USING INDEX transactions_tenant_id_reverses_transaction_id_key;
ALTER TABLE finanzas.transactions ADD CONSTRAINT transactions_reverses_transaction_id_fkey
    FOREIGN KEY (tenant_id, reverses_transaction_id)
    REFERENCES finanzas.transactions (tenant_id, id) ON UPDATE RESTRICT ON DELETE RESTRICT NOT VALID;  -- validated by 0005
COMMENT ON COLUMN finanzas.transactions.id IS 'Transaction identifier, unique within its tenant (primary key (tenant_id, id)); a caller-chosen id makes finanzas.post_transaction idempotent.';
COMMENT ON COLUMN finanzas.transactions.reverses_transaction_id IS 'For a reversal, the transaction of the same tenant it cancels (FK (tenant_id, reverses_transaction_id)); unique per tenant, so a transaction is reversed at most once.';

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

-- Stored balances (table and trigger function created by 0001): every leg inserted from this file's COMMIT on.
DROP TRIGGER IF EXISTS ledger_entries_balances ON finanzas.ledger_entries;
CREATE TRIGGER ledger_entries_balances
    AFTER INSERT ON finanzas.ledger_entries
    FOR EACH ROW EXECUTE FUNCTION finanzas.add_leg_to_balances();
ALTER TABLE finanzas.ledger_entries ENABLE ALWAYS TRIGGER ledger_entries_balances;

-- The boundary of 0004's backfill: the entry ids drawn so far. Under this file's lock no posting is in progress, so
-- every leg with an id up to it is committed before the trigger above exists, and every later leg draws a larger
-- id (the identity sequence has no cache) and passes through the trigger: each leg is counted exactly once. Kept in
-- a scratch sequence (created by 0001, dropped by 0004): setting it writes no row while the ledger is locked. An
-- unrestricted role inserting a leg with an explicit id (OVERRIDING SYSTEM VALUE) at or below it before 0004 would
-- be counted twice.
SELECT setval('finanzas.account_balances_backfill_boundary',
              coalesce(pg_sequence_last_value('finanzas.ledger_entries_id_seq'), 0));

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA finanzas FROM PUBLIC;

RESET lock_timeout;
RESET statement_timeout;

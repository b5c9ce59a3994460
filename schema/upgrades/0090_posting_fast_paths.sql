-- 0090_posting_fast_paths.sql — issue 14: a posting's and a row-level-security query's server time.
-- finanzas.post_transaction decides a plain tenant binding inline, reads the tenant's status with one query and
-- checks and collects the legs by expressions alone (no query per leg); any call that fails those runs 1.0.0's
-- checks one by one (assert_tenant_access, the arguments, parse_legs), so errors and their order are unchanged.
-- iam.current_tenant_id, which every row-level-security policy calls once per query, recognises a binding spelled
-- as a canonical uuid without its regex (the pattern still decides every other spelling, LB003 as before).
-- release: 1.1.0
-- transaction: file
-- down: 0090_posting_fast_paths.down.sql
-- breaking: no

SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE OR REPLACE FUNCTION iam.current_tenant_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
AS $$
DECLARE
    bound text := NULLIF(pg_catalog.current_setting('app.tenant_id', true), '');
    hex_uuid constant text := '[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}';
BEGIN
    IF bound IS NULL THEN
        RETURN NULL;
    END IF;
    -- The usual binding, a uuid in its canonical spelling (32 hex digits, hyphens at 9, 14, 19 and 24), is
    -- recognised without the pattern: the regex match costs more than the rest of a primary-key SELECT's row-level
    -- security (issue 14).
    IF pg_catalog.length(bound) OPERATOR(pg_catalog.=) 36
       AND pg_catalog.translate(bound, '0123456789abcdefABCDEF', '') OPERATOR(pg_catalog.=) '----'
       AND (pg_catalog.substr(bound, 9, 1) OPERATOR(pg_catalog.||) pg_catalog.substr(bound, 14, 1)
            OPERATOR(pg_catalog.||) pg_catalog.substr(bound, 19, 1) OPERATOR(pg_catalog.||) pg_catalog.substr(bound, 24, 1))
           OPERATOR(pg_catalog.=) '----' THEN
        RETURN bound::uuid;
    END IF;
    -- Checked by pattern, not by catching the cast: an EXCEPTION block would open a subtransaction per call.
    -- Braces come in pairs ('{…}' or none): the cast would refuse '{<uuid>' with 22P02. No backslash in the
    -- pattern, so it means the same under standard_conforming_strings = off.
    IF bound !~ ('^([{]' || hex_uuid || '[}]|' || hex_uuid || ')$') THEN
        RAISE EXCEPTION USING ERRCODE = 'LB003',
            MESSAGE = pg_catalog.format('app.tenant_id is not a valid uuid: %L', bound),
            HINT = 'SET app.tenant_id = ''<tenant uuid>'' (or RESET app.tenant_id) before using the schema.';
    END IF;
    RETURN bound::uuid;
END
$$;
COMMENT ON FUNCTION iam.current_tenant_id() IS 'The tenant this session is bound to (setting app.tenant_id), or NULL when unbound. Row-level security on every tenant table compares tenant_id with it. A malformed setting raises LB003.';

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

RESET statement_timeout;
RESET lock_timeout;

-- 0020_issue17_functions.sql — issue 17 (non-ledger), the functions: the caller's clock is honoured only for
-- unrestricted roles (LB007) and must be a finite time (LB008); the event and snapshot triggers check the tenant
-- binding before reading anything (LB003) and refuse positions the sequence has not handed out (LB609); the fold
-- is linear and its state bounded (LB608); start_saga's retries arbitrate on both unique keys; the action and
-- binding patterns hold under standard_conforming_strings = off; an event trigger keeps UPDATE/DELETE/TRUNCATE
-- (LOCK TABLE) and the function-only INSERTs away from leadboost_app, and what was granted before is taken back.
-- release: 1.1.0
-- transaction: file
-- down: irreversible — it would reopen the holes of issue 17 (a caller-chosen clock, cross-tenant oracles, LOCK TABLE by the application)
-- breaking: contract — leadboost_app calls passing a p_now other than now() get LB007, and its direct UPDATE/DELETE/INSERT granted by the troubleshooting block is withdrawn (42501): the issue's decision is that the application must not move time nor edit rows only functions change

SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- The session's tenant binding. No SET clause: policies call it once per query as (SELECT iam.current_tenant_id()).
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

-- Time arguments (p_now): tests drive leases, windows and expiry through them, but the application must not move
-- time (it could skip a kill switch, spend a daily cap again, or take over a live lease). A chosen clock is
-- honoured only for an unrestricted calling role; a restricted one may pass only now() — what the default gives.
-- Finite and within 1970–9999 for everyone: infinity or a far-future time would block a key or a breaker for ever
-- and overflow the interval arithmetic (22008).
CREATE OR REPLACE FUNCTION iam.assert_clock_argument(p_now timestamptz)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
    IF p_now IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_now must not be NULL';
    END IF;
    IF NOT isfinite(p_now) OR p_now < '1970-01-01 00:00:00+00' OR p_now >= '10000-01-01 00:00:00+00' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB008',
            MESSAGE = format('p_now must be a finite time from 1970-01-01 to 9999-12-31, got %s', p_now);
    END IF;
    IF p_now <> now() AND NOT iam.calling_role_is_unrestricted() THEN
        RAISE EXCEPTION USING ERRCODE = 'LB007',
            MESSAGE = format('p_now is the real clock for role %s: leave it out (or pass now()), got %s',
                             CASE WHEN current_setting('role') = 'none' THEN session_user::text
                                  ELSE current_setting('role') END, p_now),
            HINT = 'Only the schema owner (or a superuser) may choose the time, e.g. in tests.';
    END IF;
END
$$;
COMMENT ON FUNCTION iam.assert_clock_argument(timestamptz) IS 'Raises LB001 when p_now is NULL, LB008 when it is not a finite time from 1970-01-01 to 9999-12-31, and LB007 when a restricted calling role passes anything but now(): only unrestricted roles choose the clock.';

-- Row triggers that read other rows before deciding (event versions, snapshot folds) call this first, so a
-- restricted session writing directly learns nothing about a tenant it is not bound to: the same refusal (LB003)
-- whether the other tenant's stream exists or not. Through the public functions the binding was checked already.
CREATE OR REPLACE FUNCTION iam.assert_row_tenant(p_tenant_id uuid)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
DECLARE
    bound uuid := iam.current_tenant_id();
BEGIN
    IF bound IS NOT DISTINCT FROM p_tenant_id OR iam.calling_role_is_unrestricted() THEN
        RETURN;
    END IF;
    IF bound IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB003', MESSAGE = 'session is not bound to a tenant',
            HINT = 'SET app.tenant_id = ''<tenant uuid>'' first.';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'LB003',
        MESSAGE = format('session is bound to tenant %s and cannot write rows of tenant %s', bound, p_tenant_id);
END
$$;
COMMENT ON FUNCTION iam.assert_row_tenant(uuid) IS 'Raises LB003 unless the row''s tenant is the session''s binding or the calling role is unrestricted. Called first by row triggers that read other rows.';

-- The application role never keeps UPDATE, DELETE or TRUNCATE on a table of the application's schemas: any of
-- them also lets it LOCK a table every tenant shares IN ACCESS EXCLUSIVE MODE and stop them all. Nor does it keep
-- INSERT where rows carry states only the functions may reach (tenants and their status, policies and their
-- counters, idempotency keys, sagas and their steps). These files never grant them; the event trigger below takes
-- them back after every GRANT, so the source document's troubleshooting block (GRANT SELECT, INSERT, UPDATE ON
-- ALL TABLES …) keeps every guarantee. Names are spliced with %I only (no other dynamic SQL in the schema).
CREATE OR REPLACE FUNCTION iam.revoke_app_write_privileges()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target record;
BEGIN
    FOR target IN
        SELECT n.nspname, c.relname,
               (n.nspname, c.relname) IN (('iam', 'tenants'), ('gobernanza', 'policies'), ('sys', 'request_keys'),
                                          ('sys', 'sagas'), ('sys', 'saga_steps'),
                                          ('finanzas', 'account_balance_shards'),
                                          ('sys', 'schema_upgrades')) AS function_only
          FROM pg_class AS c
          JOIN pg_namespace AS n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events')
           AND c.relkind IN ('r', 'p')
         ORDER BY 1, 2
    LOOP
        IF has_table_privilege('leadboost_app', format('%I.%I', target.nspname, target.relname),
                               'UPDATE, DELETE, TRUNCATE') THEN
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON TABLE %I.%I FROM leadboost_app',
                           target.nspname, target.relname);
        END IF;
        IF target.function_only
           AND has_table_privilege('leadboost_app', format('%I.%I', target.nspname, target.relname), 'INSERT') THEN
            EXECUTE format('REVOKE INSERT ON TABLE %I.%I FROM leadboost_app', target.nspname, target.relname);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION iam.revoke_app_write_privileges() IS 'Takes back from leadboost_app UPDATE, DELETE and TRUNCATE on every table of the application schemas (each would let it LOCK a shared table IN ACCESS EXCLUSIVE MODE) and INSERT on the tables only functions, triggers or the migrator write (iam.tenants, gobernanza.policies, sys.request_keys, sys.sagas, sys.saga_steps, finanzas.account_balance_shards, sys.schema_upgrades).';

CREATE OR REPLACE FUNCTION iam.withhold_app_write_privileges()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM iam.revoke_app_write_privileges();
END
$$;
COMMENT ON FUNCTION iam.withhold_app_write_privileges() IS 'Event trigger (after every GRANT): iam.revoke_app_write_privileges().';

-- Event triggers can only be created by a superuser: an install by another role goes without it (a NOTICE says
-- so), and then a later GRANT of UPDATE to leadboost_app is not taken back (schema/README.md).
DO $$
BEGIN
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user) THEN
        DROP EVENT TRIGGER IF EXISTS leadboost_withhold_app_write_privileges;
        CREATE EVENT TRIGGER leadboost_withhold_app_write_privileges ON ddl_command_end
            WHEN TAG IN ('GRANT')
            EXECUTE FUNCTION iam.withhold_app_write_privileges();
        COMMENT ON EVENT TRIGGER leadboost_withhold_app_write_privileges IS 'After every GRANT: leadboost_app keeps no UPDATE, DELETE or TRUNCATE in the application schemas, and no INSERT on the tables only functions write (iam.revoke_app_write_privileges).';
    ELSE
        RAISE NOTICE 'not a superuser: event trigger leadboost_withhold_app_write_privileges not created; a GRANT of UPDATE/DELETE/TRUNCATE to leadboost_app will not be taken back';
    END IF;
END
$$;

REVOKE ALL ON FUNCTION iam.assert_clock_argument(timestamptz), iam.assert_row_tenant(uuid),
                       iam.revoke_app_write_privileges(), iam.withhold_app_write_privileges() FROM PUBLIC;
-- A database where the troubleshooting block already ran: take the privileges back now.
SELECT iam.revoke_app_write_privileges();

CREATE OR REPLACE FUNCTION gobernanza.assert_action_argument(p_action text)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_action IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_action must not be NULL';
    END IF;
    -- [.] rather than a backslash: under standard_conforming_strings = off a backslash in this literal would be
    -- read as an escape when the function is compiled, and the dot would then match any character.
    IF length(p_action) > 100 OR p_action !~ '^[a-z][a-z0-9_]*([.][a-z][a-z0-9_]*)*$' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB301',
            MESSAGE = format('p_action must be a lowercase dotted name of at most 100 characters (e.g. ads.spend), got %L', left(p_action, 200));
    END IF;
END
$$;
COMMENT ON FUNCTION gobernanza.assert_action_argument(text) IS 'Raises LB001 for a NULL action and LB301 for a malformed one.';

CREATE OR REPLACE FUNCTION gobernanza.validate_action(
    p_tenant_id uuid,
    p_action text,
    p_amount numeric DEFAULT 0,
    p_now timestamptz DEFAULT now())
RETURNS TABLE (allowed boolean, policy_id uuid, reason text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pol gobernanza.policies%ROWTYPE;
    applicable gobernanza.policies[] := '{}';
    in_window numeric;
    verdict text;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id);
    PERFORM gobernanza.assert_action_argument(p_action);
    IF p_amount IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_amount must not be NULL';
    END IF;
    IF p_amount < 0 OR p_amount >= 1e15 OR p_amount <> round(p_amount, 4) THEN
        RAISE EXCEPTION USING ERRCODE = 'LB302',
            MESSAGE = format('p_amount must be >= 0, < 1e15 and have at most 4 decimals, got %s', left(p_amount::text, 100));
    END IF;
    PERFORM iam.assert_clock_argument(p_now);  -- LB001/LB008, and LB007: only the owner chooses the time

    -- Lock every applicable policy, always in id order so concurrent validators cannot deadlock; under
    -- READ COMMITTED the locked rows are the newest versions, so the counters below are current.
    FOR pol IN
        SELECT * FROM gobernanza.policies AS p
         WHERE p.tenant_id = p_tenant_id
           AND p.action IN (p_action, '*')
           AND p.is_active AND p.valid_from <= p_now AND (p.valid_until IS NULL OR p.valid_until > p_now)
         ORDER BY p.id
           FOR UPDATE
    LOOP
        applicable := applicable || pol;
    END LOOP;
    IF cardinality(applicable) = 0 THEN
        RETURN QUERY SELECT true, NULL::uuid, 'NO_POLICY'::text;
        RETURN;
    END IF;

    -- Decide first (nothing changes on a denial), in priority order.
    FOR pol IN SELECT * FROM unnest(applicable) AS a ORDER BY a.priority, a.id LOOP
        in_window := CASE WHEN pol.window_started_at IS NOT NULL
                               AND p_now < pol.window_started_at + make_interval(secs => pol.window_seconds)
                          THEN pol.window_consumed ELSE 0 END;
        verdict := CASE pol.policy_type
            WHEN 'KILL_SWITCH' THEN 'KILL_SWITCH'
            WHEN 'SPEND_LIMIT' THEN CASE WHEN in_window + p_amount > pol.limit_value THEN 'SPEND_LIMIT_EXCEEDED' END
            WHEN 'RATE_LIMIT' THEN CASE WHEN in_window + 1 > pol.limit_value THEN 'RATE_LIMIT_EXCEEDED' END
            WHEN 'CIRCUIT_BREAKER' THEN CASE
                WHEN pol.breaker_state = 'CLOSED' THEN NULL
                WHEN p_now >= pol.breaker_changed_at + make_interval(secs => pol.cooldown_seconds) THEN NULL
                WHEN pol.breaker_state = 'OPEN' THEN 'CIRCUIT_OPEN'
                ELSE 'CIRCUIT_HALF_OPEN' END
        END;
        IF verdict IS NOT NULL THEN
            RETURN QUERY SELECT false, pol.id, verdict;
            RETURN;
        END IF;
    END LOOP;

    -- Allowed: consume the caps and let the probe through the breakers that were waiting for one.
    UPDATE gobernanza.policies AS p
       SET window_started_at = CASE WHEN p.window_started_at IS NOT NULL
                                         AND p_now < p.window_started_at + make_interval(secs => p.window_seconds)
                                    THEN p.window_started_at ELSE p_now END,
           window_consumed = CASE WHEN p.window_started_at IS NOT NULL
                                       AND p_now < p.window_started_at + make_interval(secs => p.window_seconds)
                                  THEN p.window_consumed ELSE 0 END
                             + CASE p.policy_type WHEN 'SPEND_LIMIT' THEN p_amount ELSE 1 END,
           updated_at = now()
     WHERE p.id = ANY (SELECT a.id FROM unnest(applicable) AS a)
       AND p.policy_type IN ('SPEND_LIMIT', 'RATE_LIMIT');
    UPDATE gobernanza.policies AS p
       SET breaker_state = 'HALF_OPEN', breaker_changed_at = p_now, updated_at = now()
     WHERE p.id = ANY (SELECT a.id FROM unnest(applicable) AS a)
       AND p.policy_type = 'CIRCUIT_BREAKER' AND p.breaker_state <> 'CLOSED';
    RETURN QUERY SELECT true, NULL::uuid, 'ALLOWED'::text;
END
$$;
COMMENT ON FUNCTION gobernanza.validate_action(uuid, text, numeric, timestamptz) IS 'Checks the tenant''s policies in force for p_action (and *) at p_now, lowest priority first. One row: allowed, the denying policy (NULL when allowed), reason (ALLOWED | NO_POLICY | KILL_SWITCH | SPEND_LIMIT_EXCEEDED | RATE_LIMIT_EXCEEDED | CIRCUIT_OPEN | CIRCUIT_HALF_OPEN). When allowed it consumes p_amount (SPEND_LIMIT) and one call (RATE_LIMIT) under row locks: concurrent callers never overspend. Raises LB001–LB005, LB007, LB008, LB301, LB302.';

CREATE OR REPLACE FUNCTION gobernanza.record_action_outcome(
    p_tenant_id uuid,
    p_action text,
    p_succeeded boolean,
    p_now timestamptz DEFAULT now())
RETURNS TABLE (policy_id uuid, breaker_state text, failure_count integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id);
    PERFORM gobernanza.assert_action_argument(p_action);
    IF p_succeeded IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_succeeded must not be NULL';
    END IF;
    PERFORM iam.assert_clock_argument(p_now);  -- LB001/LB008, and LB007: only the owner chooses the time
    -- Lock in id order (as validate_action does), then move each breaker along its state machine.
    PERFORM 1 FROM gobernanza.policies AS p
      WHERE p.tenant_id = p_tenant_id AND p.action IN (p_action, '*') AND p.policy_type = 'CIRCUIT_BREAKER'
        AND p.is_active AND p.valid_from <= p_now AND (p.valid_until IS NULL OR p.valid_until > p_now)
      ORDER BY p.id FOR UPDATE;
    RETURN QUERY
    UPDATE gobernanza.policies AS p
       SET breaker_state = CASE
               WHEN p_succeeded AND p.breaker_state = 'HALF_OPEN' THEN 'CLOSED'
               WHEN NOT p_succeeded AND p.breaker_state = 'HALF_OPEN' THEN 'OPEN'
               WHEN NOT p_succeeded AND p.breaker_state = 'CLOSED' AND p.failure_count + 1 >= p.failure_threshold THEN 'OPEN'
               ELSE p.breaker_state END,
           failure_count = CASE
               WHEN p.breaker_state = 'OPEN' THEN p.failure_count
               WHEN p_succeeded THEN 0
               ELSE p.failure_count + 1 END,
           breaker_changed_at = CASE
               WHEN NOT p_succeeded AND p.breaker_state = 'HALF_OPEN' THEN p_now
               WHEN NOT p_succeeded AND p.breaker_state = 'CLOSED' AND p.failure_count + 1 >= p.failure_threshold THEN p_now
               WHEN p_succeeded AND p.breaker_state = 'HALF_OPEN' THEN p_now
               ELSE p.breaker_changed_at END,
           -- a report while OPEN changes nothing, not even the time of the last change
           updated_at = CASE WHEN p.breaker_state = 'OPEN' THEN p.updated_at ELSE now() END
     WHERE p.tenant_id = p_tenant_id AND p.action IN (p_action, '*') AND p.policy_type = 'CIRCUIT_BREAKER'
       AND p.is_active AND p.valid_from <= p_now AND (p.valid_until IS NULL OR p.valid_until > p_now)
    RETURNING p.id, p.breaker_state, p.failure_count;
END
$$;
COMMENT ON FUNCTION gobernanza.record_action_outcome(uuid, text, boolean, timestamptz) IS 'Reports the outcome of an action to the circuit breakers governing it: a failure while CLOSED counts (OPEN at failure_threshold), a success while CLOSED resets the count, the HALF_OPEN probe''s outcome closes (success) or re-opens (failure) the breaker; reports while OPEN change nothing. Returns each breaker''s new state. Raises LB001–LB005, LB007, LB008, LB301.';

CREATE OR REPLACE FUNCTION sys.claim_request_key(
    p_tenant_id uuid,
    p_idempotency_key text,
    p_payload jsonb,
    p_lease interval DEFAULT interval '5 minutes',
    p_ttl interval DEFAULT interval '24 hours',
    p_now timestamptz DEFAULT now())
RETURNS TABLE (outcome text, lock_token uuid, status text, response jsonb, attempts integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hash text;
    token uuid := gen_random_uuid();
    k sys.request_keys%ROWTYPE;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id);
    PERFORM iam.assert_text_argument('p_idempotency_key', p_idempotency_key, 255);
    PERFORM iam.assert_json_argument('p_payload', p_payload);
    IF p_lease IS NULL OR p_ttl IS NULL OR p_now IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_lease, p_ttl and p_now must not be NULL';
    END IF;
    IF p_lease <= interval '0' OR p_lease > interval '1 day' OR p_ttl <= interval '0' OR p_ttl > interval '366 days' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB404',
            MESSAGE = format('p_lease must be in (0, 1 day] and p_ttl in (0, 366 days], got %s and %s', p_lease, p_ttl);
    END IF;
    PERFORM iam.assert_clock_argument(p_now);  -- LB008, and LB007: only the owner chooses the time
    hash := sys.payload_hash(p_payload);

    -- Loops only if cleanup deletes the row between our INSERT and our lock.
    FOR attempt IN 1..3 LOOP
        INSERT INTO sys.request_keys AS r (tenant_id, idempotency_key, payload_hash, status, lock_token,
                                           locked_at, lease_expires_at, attempts, created_at, expires_at)
        VALUES (p_tenant_id, p_idempotency_key, hash, 'PROCESSING', token,
                p_now, p_now + p_lease, 1, p_now, p_now + p_ttl)
        ON CONFLICT (tenant_id, idempotency_key) DO NOTHING;
        IF FOUND THEN
            RETURN QUERY SELECT 'CLAIMED'::text, token, 'PROCESSING'::text, NULL::jsonb, 1;
            RETURN;
        END IF;

        SELECT * INTO k FROM sys.request_keys AS r
         WHERE r.tenant_id = p_tenant_id AND r.idempotency_key = p_idempotency_key
           FOR UPDATE;
        CONTINUE WHEN NOT FOUND;

        IF k.expires_at <= p_now THEN
            -- Past its TTL the key is forgotten: this is a first claim, whatever the payload.
            UPDATE sys.request_keys AS r
               SET payload_hash = hash, status = 'PROCESSING', response = NULL, error = NULL, lock_token = token,
                   locked_at = p_now, lease_expires_at = p_now + p_lease, attempts = 1, created_at = p_now,
                   completed_at = NULL, expires_at = p_now + p_ttl
             WHERE r.tenant_id = p_tenant_id AND r.idempotency_key = p_idempotency_key;
            RETURN QUERY SELECT 'CLAIMED'::text, token, 'PROCESSING'::text, NULL::jsonb, 1;
            RETURN;
        END IF;
        IF k.payload_hash <> hash THEN
            RAISE EXCEPTION USING ERRCODE = 'LB401',
                MESSAGE = format('idempotency key %L was used with a different payload', p_idempotency_key);
        END IF;
        IF k.status = 'COMPLETED' THEN
            RETURN QUERY SELECT 'COMPLETED'::text, NULL::uuid, k.status, k.response, k.attempts;
            RETURN;
        END IF;
        IF k.status = 'PROCESSING' AND k.lease_expires_at > p_now THEN
            RETURN QUERY SELECT 'IN_PROGRESS'::text, NULL::uuid, k.status, NULL::jsonb, k.attempts;
            RETURN;
        END IF;
        -- FAILED, or PROCESSING with an expired lease (the worker is presumed dead): take it over.
        UPDATE sys.request_keys AS r
           SET status = 'PROCESSING', error = NULL, lock_token = token, locked_at = p_now,
               lease_expires_at = p_now + p_lease, attempts = r.attempts + 1, completed_at = NULL
         WHERE r.tenant_id = p_tenant_id AND r.idempotency_key = p_idempotency_key;
        RETURN QUERY SELECT 'RECLAIMED'::text, token, 'PROCESSING'::text, NULL::jsonb, k.attempts + 1;
        RETURN;
    END LOOP;
    RAISE EXCEPTION USING ERRCODE = '40001',
        MESSAGE = format('idempotency key %L changed concurrently three times; retry', p_idempotency_key);
END
$$;
COMMENT ON FUNCTION sys.claim_request_key(uuid, text, jsonb, interval, interval, timestamptz) IS 'Claims an idempotency key. One row: outcome CLAIMED or RECLAIMED (you process it; lock_token given), IN_PROGRESS (another worker holds a live lease), or COMPLETED (response holds the stored response). The same key with another payload raises LB401. Concurrent claims: exactly one gets CLAIMED/RECLAIMED. Raises LB001–LB008, LB401, LB404.';

CREATE OR REPLACE FUNCTION sys.complete_request_key(
    p_tenant_id uuid,
    p_idempotency_key text,
    p_lock_token uuid,
    p_response jsonb,
    p_now timestamptz DEFAULT now())
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k sys.request_keys%ROWTYPE;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id);  -- the tenant before the other arguments (README order)
    PERFORM iam.assert_json_argument('p_response', p_response);
    PERFORM iam.assert_clock_argument(p_now);  -- LB001/LB008, and LB007: only the owner chooses the time
    k := sys.lock_claimed_key(p_tenant_id, p_idempotency_key, p_lock_token);
    IF k.status = 'COMPLETED' AND k.response = p_response THEN
        RETURN;  -- the same completion reported twice
    END IF;
    IF k.status <> 'PROCESSING' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB403',
            MESSAGE = format('idempotency key %L is already %s', p_idempotency_key, k.status);
    END IF;
    UPDATE sys.request_keys AS r
       SET status = 'COMPLETED', response = p_response, completed_at = greatest(p_now, r.locked_at)
     WHERE r.tenant_id = p_tenant_id AND r.idempotency_key = p_idempotency_key;
END
$$;
COMMENT ON FUNCTION sys.complete_request_key(uuid, text, uuid, jsonb, timestamptz) IS 'Stores the response of a claimed key (PROCESSING → COMPLETED). Only the latest claim''s lock token is accepted (LB403); repeating the same completion is a no-op. Raises LB001–LB008, LB402, LB403.';

CREATE OR REPLACE FUNCTION sys.fail_request_key(
    p_tenant_id uuid,
    p_idempotency_key text,
    p_lock_token uuid,
    p_error text DEFAULT NULL,
    p_now timestamptz DEFAULT now())
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k sys.request_keys%ROWTYPE;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id);  -- the tenant before the other arguments (README order)
    IF p_error IS NOT NULL THEN
        PERFORM iam.assert_text_argument('p_error', p_error, 2000);
    END IF;
    PERFORM iam.assert_clock_argument(p_now);  -- LB001/LB008, and LB007: only the owner chooses the time
    k := sys.lock_claimed_key(p_tenant_id, p_idempotency_key, p_lock_token);
    IF k.status = 'FAILED' THEN
        RETURN;  -- the same failure reported twice
    END IF;
    IF k.status <> 'PROCESSING' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB403',
            MESSAGE = format('idempotency key %L is already %s', p_idempotency_key, k.status);
    END IF;
    UPDATE sys.request_keys AS r
       SET status = 'FAILED', error = p_error, completed_at = greatest(p_now, r.locked_at)
     WHERE r.tenant_id = p_tenant_id AND r.idempotency_key = p_idempotency_key;
END
$$;
COMMENT ON FUNCTION sys.fail_request_key(uuid, text, uuid, text, timestamptz) IS 'Marks a claimed key FAILED (PROCESSING → FAILED) so a retry can claim it again. Only the latest claim''s lock token is accepted (LB403); repeating it is a no-op. Raises LB001–LB005, LB007, LB008, LB402, LB403.';

CREATE OR REPLACE FUNCTION sys.cleanup_expired_request_keys(p_now timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed integer;
BEGIN
    PERFORM iam.assert_clock_argument(p_now);  -- LB001/LB008, and LB007: only the owner chooses the time
    DELETE FROM sys.request_keys AS r
     WHERE r.expires_at <= p_now
       AND NOT (r.status = 'PROCESSING' AND r.lease_expires_at > p_now);
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION sys.cleanup_expired_request_keys(timestamptz) IS 'Weekly maintenance: deletes keys past expires_at (except PROCESSING keys whose lease is still live) and returns how many. Security invoker: needs DELETE on sys.request_keys.';

CREATE OR REPLACE FUNCTION sys.start_saga(
    p_tenant_id uuid,
    p_saga_type text,
    p_steps jsonb,
    p_payload jsonb DEFAULT '{}'::jsonb,
    p_saga_id uuid DEFAULT NULL)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    saga_id uuid := coalesce(p_saga_id, gen_random_uuid());
    existing sys.sagas%ROWTYPE;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id);
    PERFORM iam.assert_text_argument('p_saga_type', p_saga_type, 100, '^[A-Za-z][A-Za-z0-9_.-]*$');
    PERFORM iam.assert_json_argument('p_steps', p_steps);
    PERFORM iam.assert_json_argument('p_payload', p_payload);
    IF jsonb_typeof(p_steps) <> 'array' OR jsonb_array_length(p_steps) NOT BETWEEN 1 AND 100
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(p_steps) AS e
                  WHERE jsonb_typeof(e) <> 'string' OR (e #>> '{}') !~ '^[A-Za-z][A-Za-z0-9_.-]{0,99}$')
       OR (SELECT count(DISTINCT e) FROM jsonb_array_elements_text(p_steps) AS e) <> jsonb_array_length(p_steps) THEN
        RAISE EXCEPTION USING ERRCODE = 'LB503',
            MESSAGE = format('p_steps must be a JSON array of 1 to 100 distinct step names (A–Z a–z 0–9 _ . -), got %s', left(p_steps::text, 200));
    END IF;
    IF jsonb_typeof(p_payload) <> 'object' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB503', MESSAGE = format('p_payload must be a JSON object, got %s', jsonb_typeof(p_payload));
    END IF;

    -- No conflict target: both unique keys (id, and (id, tenant_id)) are arbiters. With ON CONFLICT (id) a
    -- concurrent identical start made this INSERT wait on the second key and then fail with 23505.
    INSERT INTO sys.sagas (id, tenant_id, saga_type, step_count, payload)
    VALUES (saga_id, p_tenant_id, p_saga_type, jsonb_array_length(p_steps), p_payload)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        -- Started before (a retry): the same definition returns the id, another is refused.
        SELECT * INTO existing FROM sys.sagas AS s WHERE s.id = saga_id;
        IF existing.tenant_id = p_tenant_id AND existing.saga_type = p_saga_type AND existing.payload = p_payload
           AND (SELECT jsonb_agg(st.step_name ORDER BY st.step_index) FROM sys.saga_steps AS st WHERE st.saga_id = existing.id) = p_steps THEN
            RETURN saga_id;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'LB508',
            MESSAGE = format('saga id %s was already used for a different saga', saga_id);
    END IF;
    INSERT INTO sys.saga_steps (saga_id, tenant_id, step_index, step_name)
    SELECT saga_id, p_tenant_id, e.n, e.name
      FROM jsonb_array_elements_text(p_steps) WITH ORDINALITY AS e (name, n);
    RETURN saga_id;
END
$$;
COMMENT ON FUNCTION sys.start_saga(uuid, text, jsonb, jsonb, uuid) IS 'Starts a saga of the given steps (JSON array of distinct names, run in order) in state RUNNING and returns its id. Idempotent when p_saga_id is given: the same definition returns the id, another raises LB508. Raises LB001–LB006, LB503, LB508.';

-- Gapless versions and one type per stream, for every INSERT, whoever makes it. The tenant binding is checked
-- before anything is read (a direct INSERT for another tenant's stream must not learn its version or type), and a
-- position the sequence has not handed out yet (OVERRIDING SYSTEM VALUE) is refused: it would take another
-- tenant's next positions, or, near 2^63, blind every catch-up reader.
CREATE OR REPLACE FUNCTION events.check_event_version()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current_version bigint;
    current_type text;
BEGIN
    PERFORM iam.assert_row_tenant(NEW.tenant_id);
    IF NEW.global_position > coalesce(pg_sequence_last_value('events.event_store_global_position_seq'::regclass), 0) THEN
        RAISE EXCEPTION USING ERRCODE = 'LB609',
            MESSAGE = format('global_position %s was not assigned by the database: OVERRIDING SYSTEM VALUE is not allowed',
                             NEW.global_position);
    END IF;
    SELECT e.version, e.stream_type INTO current_version, current_type
      FROM events.event_store AS e
     WHERE e.tenant_id = NEW.tenant_id AND e.stream_id = NEW.stream_id
     ORDER BY e.version DESC
     LIMIT 1;
    IF coalesce(current_version, 0) + 1 <> NEW.version THEN
        RAISE EXCEPTION USING ERRCODE = 'LB601',
            MESSAGE = format('stream %s is at version %s: the next event must be version %s, not %s',
                             NEW.stream_id, coalesce(current_version, 0), coalesce(current_version, 0) + 1, NEW.version);
    END IF;
    IF current_type IS NOT NULL AND current_type <> NEW.stream_type THEN
        RAISE EXCEPTION USING ERRCODE = 'LB604',
            MESSAGE = format('stream %s has stream_type %s, not %s', NEW.stream_id, current_type, NEW.stream_type);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION events.check_event_version() IS 'Trigger: the row''s tenant must be the session''s binding unless the calling role is unrestricted (LB003, checked first), its global_position one the sequence handed out (LB609), its version the stream''s current version + 1 (LB601) and its stream_type the stream''s (LB604).';

-- Folds a stream up to p_version, from the latest snapshot at or below it (or from the start).
-- apply_event is a shallow merge, so the fold is "each key's last write wins": a key's value is the one from the
-- latest event (or the snapshot) that mentions it, and a JSON null there removes it. Computed that way, in one
-- pass over the events read (sorted by key), the cost is linear in their size; applying apply_event event by event
-- copies the whole state every time (quadratic: 64 events of < 1 MiB each adding a key took 52 s and 417 MB).
-- The state is bounded (16 MiB, LB608), checked before it is built.
CREATE OR REPLACE FUNCTION events.fold_stream(
    p_tenant_id uuid,
    p_stream_id text,
    p_version bigint,
    p_use_snapshots boolean)
RETURNS TABLE (version bigint, state jsonb)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    base_version bigint := 0;
    base jsonb := '{}'::jsonb;
    state_size bigint;
    state_limit constant bigint := 16777216;
BEGIN
    IF p_use_snapshots THEN
        SELECT s.version, s.state INTO base_version, base
          FROM events.snapshots AS s
         WHERE s.tenant_id = p_tenant_id AND s.stream_id = p_stream_id AND s.version <= p_version
         ORDER BY s.version DESC
         LIMIT 1;
        IF NOT FOUND THEN
            base_version := 0;
            base := '{}'::jsonb;
        END IF;
    END IF;
    SELECT coalesce(max(e.version), base_version) INTO version
      FROM events.event_store AS e
     WHERE e.tenant_id = p_tenant_id AND e.stream_id = p_stream_id
       AND e.version > base_version AND e.version <= p_version;
    -- First the size of the result, from each key's last write (the snapshot counts as written at base_version),
    -- without carrying the values through the sort; the state is built only if it fits.
    SELECT sum(octet_length(l.key) + l.size) INTO state_size
      FROM (SELECT DISTINCT ON (w.key) w.key, w.size, w.is_null
              FROM (SELECT kv.key, base_version AS at_version, pg_column_size(kv.value) AS size,
                           kv.value = 'null'::jsonb AS is_null
                      FROM jsonb_each(base) AS kv
                    UNION ALL
                    SELECT kv.key, e.version, pg_column_size(kv.value), kv.value = 'null'::jsonb
                      FROM events.event_store AS e
                     CROSS JOIN LATERAL jsonb_each(e.payload) AS kv
                     WHERE e.tenant_id = p_tenant_id AND e.stream_id = p_stream_id
                       AND e.version > base_version AND e.version <= p_version) AS w
             ORDER BY w.key, w.at_version DESC) AS l
     WHERE NOT l.is_null;
    IF state_size > state_limit THEN
        RAISE EXCEPTION USING ERRCODE = 'LB608',
            MESSAGE = format('state of stream %s at version %s would be %s bytes: at most %s (16 MiB) is allowed',
                             p_stream_id, version, state_size, state_limit),
            HINT = 'Keep less in one stream''s state: remove keys (a JSON null) or split the stream.';
    END IF;
    SELECT coalesce(jsonb_object_agg(l.key, l.value), '{}'::jsonb) INTO state
      FROM (SELECT DISTINCT ON (w.key) w.key, w.value
              FROM (SELECT kv.key, kv.value, base_version AS at_version
                      FROM jsonb_each(base) AS kv
                    UNION ALL
                    SELECT kv.key, kv.value, e.version
                      FROM events.event_store AS e
                     CROSS JOIN LATERAL jsonb_each(e.payload) AS kv
                     WHERE e.tenant_id = p_tenant_id AND e.stream_id = p_stream_id
                       AND e.version > base_version AND e.version <= p_version) AS w
             ORDER BY w.key, w.at_version DESC) AS l
     WHERE l.value <> 'null'::jsonb;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION events.fold_stream(uuid, text, bigint, boolean) IS 'Internal: state of a stream at p_version (each key''s last write, as events.apply_event folded event by event gives it, in one pass), starting from the latest snapshot <= p_version when p_use_snapshots, else from the first event. Raises LB608 when the state would exceed 16 MiB.';

CREATE OR REPLACE FUNCTION events.check_snapshot_state()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    folded record;
BEGIN
    PERFORM iam.assert_row_tenant(NEW.tenant_id);  -- before the fold reads anything of the stream
    SELECT * INTO folded FROM events.fold_stream(NEW.tenant_id, NEW.stream_id, NEW.version, true);
    -- A version with no event is left to the foreign key (23503), a NULL key to NOT NULL (23502).
    IF folded.version IS DISTINCT FROM NEW.version THEN
        RETURN NEW;
    END IF;
    IF NEW.state IS NULL THEN
        NEW.state := folded.state;
    ELSIF NEW.state <> folded.state THEN
        RAISE EXCEPTION USING ERRCODE = 'LB606',
            MESSAGE = format('snapshot of stream %s at version %s does not equal the replayed state', NEW.stream_id, NEW.version);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION events.check_snapshot_state() IS 'Trigger: the row''s tenant must be the session''s binding unless the calling role is unrestricted (LB003, checked first); a snapshot''s state must equal the fold of its stream at its version (LB606); a NULL state is filled in with it.';

RESET lock_timeout;
RESET statement_timeout;

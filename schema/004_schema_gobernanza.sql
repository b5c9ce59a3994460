-- 004_schema_gobernanza.sql — schema gobernanza: configurable rules and limits that callers check before acting.
--
-- A policy governs one action name (or '*', every action) of one tenant: a spend cap or a rate cap per fixed
-- time window, a circuit breaker (CLOSED → OPEN after N failures → HALF_OPEN single probe after a cooldown),
-- or a kill switch. gobernanza.validate_action() decides and, when it allows, records the consumption in the
-- same statement while holding the row locks of every policy involved: two sessions checking at once are
-- serialised, so a cap is never overspent. Requires 001. Plain SQL, idempotent.

-- Fail fast instead of queueing behind the application's locks (schema/README.md, "Lock and statement
-- timeouts"); reset at the end of the file.
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE SCHEMA IF NOT EXISTS gobernanza;
COMMENT ON SCHEMA gobernanza IS 'Governance: spend and rate limits, circuit breakers and kill switches, checked with validate_action().';

CREATE TABLE IF NOT EXISTS gobernanza.policies (
    id                 uuid           NOT NULL DEFAULT gen_random_uuid(),
    tenant_id          uuid           NOT NULL,
    name               text           NOT NULL,
    description        text,
    policy_type        text           NOT NULL,
    action             text           NOT NULL,
    limit_value        numeric(19, 4),
    window_seconds     integer,
    failure_threshold  integer,
    cooldown_seconds   integer,
    priority           integer        NOT NULL DEFAULT 100,
    is_active          boolean        NOT NULL DEFAULT true,
    valid_from         timestamptz    NOT NULL DEFAULT now(),
    valid_until        timestamptz,
    window_started_at  timestamptz,
    window_consumed    numeric(19, 4) NOT NULL DEFAULT 0,
    breaker_state      text,
    failure_count      integer        NOT NULL DEFAULT 0,
    breaker_changed_at timestamptz,
    created_at         timestamptz    NOT NULL DEFAULT now(),
    updated_at         timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT policies_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT policies_tenant_id_name_key UNIQUE (tenant_id, name),
    CONSTRAINT policies_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES iam.tenants (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT policies_name_check CHECK (length(name) BETWEEN 1 AND 100),
    CONSTRAINT policies_description_check CHECK (length(description) BETWEEN 1 AND 500),
    CONSTRAINT policies_policy_type_check
        CHECK (policy_type IN ('SPEND_LIMIT', 'RATE_LIMIT', 'CIRCUIT_BREAKER', 'KILL_SWITCH')),
    CONSTRAINT policies_action_check
        CHECK (length(action) <= 100 AND action ~ '^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*)$'),
    CONSTRAINT policies_limit_value_check CHECK (limit_value > 0 AND limit_value <> 'NaN'),
    CONSTRAINT policies_window_seconds_check CHECK (window_seconds BETWEEN 1 AND 31622400),
    CONSTRAINT policies_failure_threshold_check CHECK (failure_threshold BETWEEN 1 AND 1000),
    CONSTRAINT policies_cooldown_seconds_check CHECK (cooldown_seconds BETWEEN 1 AND 2592000),
    CONSTRAINT policies_priority_check CHECK (priority BETWEEN 0 AND 10000),
    CONSTRAINT policies_validity_check CHECK (valid_until > valid_from),
    CONSTRAINT policies_window_consumed_check CHECK (window_consumed >= 0 AND window_consumed <> 'NaN'),
    CONSTRAINT policies_breaker_state_check CHECK (breaker_state IN ('CLOSED', 'OPEN', 'HALF_OPEN')),
    CONSTRAINT policies_failure_count_check CHECK (failure_count >= 0),
    CONSTRAINT policies_shape_check CHECK (CASE policy_type
        WHEN 'SPEND_LIMIT' THEN limit_value IS NOT NULL AND window_seconds IS NOT NULL
                                AND failure_threshold IS NULL AND cooldown_seconds IS NULL AND breaker_state IS NULL
        WHEN 'RATE_LIMIT' THEN limit_value IS NOT NULL AND window_seconds IS NOT NULL
                                AND limit_value = trunc(limit_value)
                                AND failure_threshold IS NULL AND cooldown_seconds IS NULL AND breaker_state IS NULL
        WHEN 'CIRCUIT_BREAKER' THEN failure_threshold IS NOT NULL AND cooldown_seconds IS NOT NULL
                                AND breaker_state IS NOT NULL
                                AND limit_value IS NULL AND window_seconds IS NULL
        ELSE limit_value IS NULL AND window_seconds IS NULL AND failure_threshold IS NULL
             AND cooldown_seconds IS NULL AND breaker_state IS NULL
    END)
);
COMMENT ON TABLE gobernanza.policies IS 'Per-tenant rules checked by gobernanza.validate_action(): SPEND_LIMIT, RATE_LIMIT (fixed windows), CIRCUIT_BREAKER, KILL_SWITCH.';
COMMENT ON COLUMN gobernanza.policies.id IS 'Policy identifier.';
COMMENT ON COLUMN gobernanza.policies.tenant_id IS 'Owning tenant (FK iam.tenants ON DELETE RESTRICT).';
COMMENT ON COLUMN gobernanza.policies.name IS 'Name, unique per tenant, 1–100 characters.';
COMMENT ON COLUMN gobernanza.policies.description IS 'Free text, 1–500 characters, or NULL.';
COMMENT ON COLUMN gobernanza.policies.policy_type IS 'SPEND_LIMIT (sum of amounts per window <= limit_value), RATE_LIMIT (calls per window <= limit_value), CIRCUIT_BREAKER, KILL_SWITCH (always deny).';
COMMENT ON COLUMN gobernanza.policies.action IS 'Action name it governs (lowercase dotted, e.g. ads.spend) or * for every action.';
COMMENT ON COLUMN gobernanza.policies.limit_value IS 'SPEND_LIMIT: money per window; RATE_LIMIT: whole number of calls per window (> 0, not NaN). NULL for other types.';
COMMENT ON COLUMN gobernanza.policies.window_seconds IS 'Length of the fixed window of SPEND_LIMIT and RATE_LIMIT (1 s – 366 days).';
COMMENT ON COLUMN gobernanza.policies.failure_threshold IS 'CIRCUIT_BREAKER: consecutive failures that open it.';
COMMENT ON COLUMN gobernanza.policies.cooldown_seconds IS 'CIRCUIT_BREAKER: time OPEN before one probe is let through (HALF_OPEN), and the probe''s own time-out.';
COMMENT ON COLUMN gobernanza.policies.priority IS 'Evaluation order, lowest first (0–10000); the first denying policy is reported.';
COMMENT ON COLUMN gobernanza.policies.is_active IS 'Inactive policies are ignored.';
COMMENT ON COLUMN gobernanza.policies.valid_from IS 'Start of the validity period (inclusive).';
COMMENT ON COLUMN gobernanza.policies.valid_until IS 'End of the validity period (exclusive), NULL for open-ended.';
COMMENT ON COLUMN gobernanza.policies.window_started_at IS 'Start of the current window (SPEND_LIMIT, RATE_LIMIT); a new window starts at the first allowed call after it ends.';
COMMENT ON COLUMN gobernanza.policies.window_consumed IS 'Amount (SPEND_LIMIT) or calls (RATE_LIMIT) consumed in the current window.';
COMMENT ON COLUMN gobernanza.policies.breaker_state IS 'CIRCUIT_BREAKER: CLOSED (allow), OPEN (deny), HALF_OPEN (one probe in flight).';
COMMENT ON COLUMN gobernanza.policies.failure_count IS 'CIRCUIT_BREAKER: consecutive failures recorded while CLOSED.';
COMMENT ON COLUMN gobernanza.policies.breaker_changed_at IS 'CIRCUIT_BREAKER: when it last opened or let a probe through.';
COMMENT ON COLUMN gobernanza.policies.created_at IS 'When the policy was created.';
COMMENT ON COLUMN gobernanza.policies.updated_at IS 'When the policy or its counters last changed.';

CREATE INDEX IF NOT EXISTS policies_tenant_action_idx ON gobernanza.policies (tenant_id, action) WHERE is_active;

CREATE OR REPLACE VIEW gobernanza.active_policies
WITH (security_invoker = true) AS
SELECT p.id,
       p.tenant_id,
       p.name,
       p.policy_type,
       p.action,
       p.priority,
       p.limit_value,
       p.window_seconds,
       CASE WHEN p.window_started_at IS NOT NULL
                 AND now() < p.window_started_at + make_interval(secs => p.window_seconds)
            THEN p.window_consumed ELSE 0 END AS consumed_in_window,
       p.breaker_state,
       p.valid_from,
       p.valid_until
FROM gobernanza.policies AS p
WHERE p.is_active
  AND p.valid_from <= now()
  AND (p.valid_until IS NULL OR p.valid_until > now());
COMMENT ON VIEW gobernanza.active_policies IS 'Policies in force now (active and within their validity period), with the consumption of the current window. Security invoker.';
COMMENT ON COLUMN gobernanza.active_policies.id IS 'Policy identifier.';
COMMENT ON COLUMN gobernanza.active_policies.tenant_id IS 'Owning tenant.';
COMMENT ON COLUMN gobernanza.active_policies.name IS 'Policy name.';
COMMENT ON COLUMN gobernanza.active_policies.policy_type IS 'SPEND_LIMIT, RATE_LIMIT, CIRCUIT_BREAKER or KILL_SWITCH.';
COMMENT ON COLUMN gobernanza.active_policies.action IS 'Governed action, or *.';
COMMENT ON COLUMN gobernanza.active_policies.priority IS 'Evaluation order, lowest first.';
COMMENT ON COLUMN gobernanza.active_policies.limit_value IS 'Cap per window (SPEND_LIMIT, RATE_LIMIT).';
COMMENT ON COLUMN gobernanza.active_policies.window_seconds IS 'Window length in seconds.';
COMMENT ON COLUMN gobernanza.active_policies.consumed_in_window IS 'Consumed in the window running now (0 once it has ended).';
COMMENT ON COLUMN gobernanza.active_policies.breaker_state IS 'Circuit breaker state.';
COMMENT ON COLUMN gobernanza.active_policies.valid_from IS 'Start of validity.';
COMMENT ON COLUMN gobernanza.active_policies.valid_until IS 'End of validity, or NULL.';

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

ALTER TABLE gobernanza.policies ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON gobernanza.policies;
CREATE POLICY tenant_isolation ON gobernanza.policies
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON gobernanza.policies IS 'Roles subject to RLS see and write only rows of the tenant bound with app.tenant_id.';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA gobernanza FROM PUBLIC;
GRANT USAGE ON SCHEMA gobernanza TO leadboost_app;
GRANT SELECT ON gobernanza.policies, gobernanza.active_policies TO leadboost_app;
GRANT EXECUTE ON FUNCTION gobernanza.validate_action(uuid, text, numeric, timestamptz),
                          gobernanza.record_action_outcome(uuid, text, boolean, timestamptz) TO leadboost_app;

RESET statement_timeout;
RESET lock_timeout;

-- 0061_tenant_scoped_ids.sql — issue 17.6 for sagas and events, and the Citus rule as a catalog contract: saga
-- ids (LB508) and event ids (LB605) are scoped to the tenant as transaction ids are since 0002 — a session bound to
-- A gets for B's saga or event id the answer of an unused id (no existence oracle, no squatting, no wait on B's
-- uncommitted row). Keys become sys.sagas (tenant_id, id), sys.saga_steps (tenant_id, saga_id, step_index) and
-- (tenant_id, saga_id, step_name) with FK (tenant_id, saga_id), events.event_store (tenant_id, event_id),
-- stock.inventory_items and gobernanza.policies (tenant_id, id); the saga functions, sys.active_sagas and
-- events.append_event look ids up with their tenant. Uses the indexes 0060 built concurrently.
-- release: 1.1.0
-- transaction: file
-- down: irreversible — afterwards two tenants may hold the same saga or event id, which the 1.0.0 keys (id), (event_id) cannot hold
-- breaking: contract — a saga id or event id another tenant used is no longer refused (LB508, LB605): issue 17.6's isolation promise; the internal sys.saga_report and sys.assert_earlier_steps_succeeded take the tenant as first argument
SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- Sagas and their steps (indexes built by 0060).
ALTER TABLE sys.saga_steps DROP CONSTRAINT saga_steps_saga_fkey;
ALTER TABLE sys.saga_steps DROP CONSTRAINT saga_steps_saga_id_step_name_key;
ALTER TABLE sys.saga_steps DROP CONSTRAINT saga_steps_pkey;
ALTER TABLE sys.sagas DROP CONSTRAINT sagas_id_tenant_id_key;
ALTER TABLE sys.sagas DROP CONSTRAINT sagas_pkey;
ALTER TABLE sys.sagas ADD CONSTRAINT sagas_pkey PRIMARY KEY USING INDEX sagas_tenant_id_id_idx;
ALTER TABLE sys.saga_steps
    ADD CONSTRAINT saga_steps_pkey PRIMARY KEY USING INDEX saga_steps_tenant_id_saga_id_step_index_idx;
ALTER TABLE sys.saga_steps ADD CONSTRAINT saga_steps_tenant_id_saga_id_step_name_key
    UNIQUE USING INDEX saga_steps_tenant_id_saga_id_step_name_key;
ALTER TABLE sys.saga_steps ADD CONSTRAINT saga_steps_saga_fkey FOREIGN KEY (tenant_id, saga_id)
    REFERENCES sys.sagas (tenant_id, id) ON UPDATE RESTRICT ON DELETE CASCADE NOT VALID;
ALTER TABLE sys.saga_steps VALIDATE CONSTRAINT saga_steps_saga_fkey;

-- Event ids, inventory items, policies.
ALTER TABLE events.event_store DROP CONSTRAINT event_store_event_id_key;
ALTER TABLE events.event_store ADD CONSTRAINT event_store_tenant_id_event_id_key
    UNIQUE USING INDEX event_store_tenant_id_event_id_key;
ALTER TABLE stock.inventory_items DROP CONSTRAINT inventory_items_pkey;
ALTER TABLE stock.inventory_items
    ADD CONSTRAINT inventory_items_pkey PRIMARY KEY USING INDEX inventory_items_tenant_id_id_idx;
ALTER TABLE gobernanza.policies DROP CONSTRAINT policies_pkey;
ALTER TABLE gobernanza.policies ADD CONSTRAINT policies_pkey PRIMARY KEY USING INDEX policies_tenant_id_id_idx;

COMMENT ON COLUMN sys.sagas.id IS 'Saga identifier, unique within its tenant (primary key (tenant_id, id)); a caller-chosen id makes sys.start_saga idempotent.';
COMMENT ON COLUMN sys.saga_steps.saga_id IS 'The saga (FK (tenant_id, saga_id) to sys.sagas, deleted with it).';
COMMENT ON COLUMN events.event_store.event_id IS 'Unique event id; a caller-chosen id makes events.append_event idempotent.';

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

    -- No conflict target: every unique key is an arbiter (today only the primary key (tenant_id, id); with
    -- ON CONFLICT (id) and a second key a concurrent identical start waited on that key and failed with 23505).
    -- The key holds the tenant, so another tenant's saga with this id is neither seen nor waited for.
    INSERT INTO sys.sagas (id, tenant_id, saga_type, step_count, payload)
    VALUES (saga_id, p_tenant_id, p_saga_type, jsonb_array_length(p_steps), p_payload)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        -- Started before (a retry): the same definition returns the id, another is refused.
        SELECT * INTO existing FROM sys.sagas AS s WHERE s.tenant_id = p_tenant_id AND s.id = saga_id;
        IF existing.saga_type = p_saga_type AND existing.payload = p_payload
           AND (SELECT jsonb_agg(st.step_name ORDER BY st.step_index) FROM sys.saga_steps AS st
                 WHERE st.tenant_id = p_tenant_id AND st.saga_id = existing.id) = p_steps THEN
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
COMMENT ON FUNCTION sys.start_saga(uuid, text, jsonb, jsonb, uuid) IS 'Starts a saga of the given steps (JSON array of distinct names, run in order) in state RUNNING and returns its id. Idempotent when p_saga_id is given: the same definition returns the id, another raises LB508 (saga ids are scoped to the tenant: another tenant''s saga with that id does not count). Raises LB001–LB006, LB503, LB508.';

DROP FUNCTION IF EXISTS sys.assert_earlier_steps_succeeded(uuid, integer);  -- before 1.1.0: without the tenant
CREATE OR REPLACE FUNCTION sys.assert_earlier_steps_succeeded(p_tenant_id uuid, p_saga_id uuid, p_step_index integer)
RETURNS void
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    blocking integer;
BEGIN
    SELECT min(x.step_index) INTO blocking FROM sys.saga_steps AS x
     WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index < p_step_index
       AND x.status <> 'SUCCEEDED';
    IF blocking IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB504',
            MESSAGE = format('saga %s: step %s reported before step %s succeeded', p_saga_id, p_step_index, blocking);
    END IF;
END
$$;
COMMENT ON FUNCTION sys.assert_earlier_steps_succeeded(uuid, uuid, integer) IS 'Internal: raises LB504 when a step before p_step_index has not succeeded.';

DROP FUNCTION IF EXISTS sys.saga_report(uuid, boolean, integer);  -- before 1.1.0: without the tenant
CREATE OR REPLACE FUNCTION sys.saga_report(p_tenant_id uuid, p_saga_id uuid, p_applied boolean, p_step_index integer)
RETURNS TABLE (applied boolean, saga_state text, step_status text, next_step integer, next_compensation_step integer)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p_applied,
           s.state,
           (SELECT st.status FROM sys.saga_steps AS st
             WHERE st.tenant_id = s.tenant_id AND st.saga_id = s.id AND st.step_index = p_step_index),
           (SELECT min(st.step_index) FROM sys.saga_steps AS st
             WHERE st.tenant_id = s.tenant_id AND st.saga_id = s.id AND st.status = 'PENDING' AND s.state = 'RUNNING'),
           (SELECT max(st.step_index) FROM sys.saga_steps AS st
             WHERE st.tenant_id = s.tenant_id AND st.saga_id = s.id AND st.status = 'SUCCEEDED' AND s.state = 'COMPENSATING')
      FROM sys.sagas AS s WHERE s.tenant_id = p_tenant_id AND s.id = p_saga_id
$$;
COMMENT ON FUNCTION sys.saga_report(uuid, uuid, boolean, integer) IS 'Internal: the row every saga report function returns.';

CREATE OR REPLACE FUNCTION sys.record_step_success(
    p_tenant_id uuid,
    p_saga_id uuid,
    p_step_index integer,
    p_result jsonb DEFAULT NULL)
RETURNS TABLE (applied boolean, saga_state text, step_status text, next_step integer, next_compensation_step integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s sys.sagas%ROWTYPE;
    st sys.saga_steps%ROWTYPE;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id, false);  -- the tenant before the other arguments (README order)
    IF p_result IS NOT NULL THEN
        PERFORM iam.assert_json_argument('p_result', p_result);
    END IF;
    s := sys.lock_saga(p_tenant_id, p_saga_id, p_step_index);
    SELECT * INTO st FROM sys.saga_steps AS x WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    -- Duplicate or late (the saga moved on): harmless, nothing changes.
    IF s.state <> 'RUNNING' OR st.status <> 'PENDING' THEN
        RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, false, p_step_index);
        RETURN;
    END IF;
    PERFORM sys.assert_earlier_steps_succeeded(p_tenant_id, p_saga_id, p_step_index);
    UPDATE sys.saga_steps AS x SET status = 'SUCCEEDED', result = p_result, succeeded_at = clock_timestamp()
     WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    UPDATE sys.sagas AS sg
       SET state = CASE WHEN p_step_index = sg.step_count THEN 'COMPLETED' ELSE 'RUNNING' END,
           completed_at = CASE WHEN p_step_index = sg.step_count THEN clock_timestamp() END,
           updated_at = clock_timestamp()
     WHERE sg.tenant_id = p_tenant_id AND sg.id = p_saga_id;
    RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, true, p_step_index);
END
$$;
COMMENT ON FUNCTION sys.record_step_success(uuid, uuid, integer, jsonb) IS 'Reports that step p_step_index succeeded; the last step completes the saga. A duplicate or late report (step no longer PENDING, saga no longer RUNNING) changes nothing (applied = false). Raises LB001–LB003, LB006, LB501, LB504 (an earlier step has not succeeded), LB505.';

CREATE OR REPLACE FUNCTION sys.record_step_failure(
    p_tenant_id uuid,
    p_saga_id uuid,
    p_step_index integer,
    p_error text DEFAULT NULL)
RETURNS TABLE (applied boolean, saga_state text, step_status text, next_step integer, next_compensation_step integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s sys.sagas%ROWTYPE;
    st sys.saga_steps%ROWTYPE;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id, false);  -- the tenant before the other arguments (README order)
    IF p_error IS NOT NULL THEN
        PERFORM iam.assert_text_argument('p_error', p_error, 2000);
    END IF;
    s := sys.lock_saga(p_tenant_id, p_saga_id, p_step_index);
    SELECT * INTO st FROM sys.saga_steps AS x WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    IF s.state <> 'RUNNING' OR st.status <> 'PENDING' THEN
        RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, false, p_step_index);
        RETURN;
    END IF;
    PERFORM sys.assert_earlier_steps_succeeded(p_tenant_id, p_saga_id, p_step_index);
    UPDATE sys.saga_steps AS x SET status = 'FAILED', error = p_error, failed_at = clock_timestamp()
     WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    -- Steps 1..k-1 all succeeded: compensate them (k > 1), or there is nothing to undo (k = 1).
    UPDATE sys.sagas AS sg
       SET state = CASE WHEN p_step_index > 1 THEN 'COMPENSATING' ELSE 'FAILED' END,
           failed_step = p_step_index,
           failure_reason = p_error,
           completed_at = CASE WHEN p_step_index > 1 THEN NULL ELSE clock_timestamp() END,
           updated_at = clock_timestamp()
     WHERE sg.tenant_id = p_tenant_id AND sg.id = p_saga_id;
    RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, true, p_step_index);
END
$$;
COMMENT ON FUNCTION sys.record_step_failure(uuid, uuid, integer, text) IS 'Reports that step p_step_index failed: the saga moves to COMPENSATING (steps before it must be compensated, last first) or straight to FAILED when it is step 1. Duplicate or late reports change nothing (applied = false). Raises LB001–LB005, LB501, LB504, LB505.';

CREATE OR REPLACE FUNCTION sys.record_compensation_done(
    p_tenant_id uuid,
    p_saga_id uuid,
    p_step_index integer)
RETURNS TABLE (applied boolean, saga_state text, step_status text, next_step integer, next_compensation_step integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s sys.sagas%ROWTYPE;
    st sys.saga_steps%ROWTYPE;
    due integer;
BEGIN
    s := sys.lock_saga(p_tenant_id, p_saga_id, p_step_index);
    SELECT * INTO st FROM sys.saga_steps AS x WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    IF st.status = 'COMPENSATED' THEN
        RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, false, p_step_index);
        RETURN;
    END IF;
    IF s.state <> 'COMPENSATING' OR st.status <> 'SUCCEEDED' THEN
        RAISE EXCEPTION USING ERRCODE = 'LB506',
            MESSAGE = format('saga %s is %s and step %s is %s: no compensation of it was requested',
                             p_saga_id, s.state, p_step_index, st.status);
    END IF;
    SELECT max(x.step_index) INTO due FROM sys.saga_steps AS x
     WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.status = 'SUCCEEDED';
    IF due <> p_step_index THEN
        RAISE EXCEPTION USING ERRCODE = 'LB507',
            MESSAGE = format('saga %s: step %s must be compensated before step %s', p_saga_id, due, p_step_index);
    END IF;
    UPDATE sys.saga_steps AS x SET status = 'COMPENSATED', compensated_at = clock_timestamp()
     WHERE x.tenant_id = p_tenant_id AND x.saga_id = p_saga_id AND x.step_index = p_step_index;
    UPDATE sys.sagas AS sg
       SET state = CASE WHEN p_step_index = 1 THEN 'FAILED' ELSE 'COMPENSATING' END,
           completed_at = CASE WHEN p_step_index = 1 THEN clock_timestamp() END,
           updated_at = clock_timestamp()
     WHERE sg.tenant_id = p_tenant_id AND sg.id = p_saga_id;
    RETURN QUERY SELECT * FROM sys.saga_report(p_tenant_id, p_saga_id, true, p_step_index);
END
$$;
COMMENT ON FUNCTION sys.record_compensation_done(uuid, uuid, integer) IS 'Reports that the compensation of step p_step_index is done. Only the highest still-SUCCEEDED step may be compensated (LB507); after step 1 the saga is FAILED. A repeated report changes nothing (applied = false). Raises LB001–LB003, LB501, LB505, LB506 (nothing to compensate), LB507.';

CREATE OR REPLACE VIEW sys.active_sagas
WITH (security_invoker = true) AS
SELECT s.id,
       s.tenant_id,
       s.saga_type,
       s.state,
       s.step_count,
       st.steps_succeeded,
       CASE WHEN s.state = 'RUNNING' THEN st.first_pending END       AS next_step,
       CASE WHEN s.state = 'COMPENSATING' THEN st.last_succeeded END AS next_compensation_step,
       s.failed_step,
       s.started_at,
       s.updated_at,
       now() - s.started_at                                          AS age
FROM sys.sagas AS s
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x.status IN ('SUCCEEDED', 'COMPENSATED')) AS steps_succeeded,
           min(x.step_index) FILTER (WHERE x.status = 'PENDING')            AS first_pending,
           max(x.step_index) FILTER (WHERE x.status = 'SUCCEEDED')          AS last_succeeded
      FROM sys.saga_steps AS x
     WHERE x.tenant_id = s.tenant_id AND x.saga_id = s.id
) AS st
WHERE s.state IN ('RUNNING', 'COMPENSATING');

CREATE OR REPLACE FUNCTION events.append_event(
    p_tenant_id uuid,
    p_stream_id text,
    p_stream_type text,
    p_event_type text,
    p_payload jsonb,
    p_expected_version bigint,
    p_metadata jsonb DEFAULT '{}'::jsonb,
    p_event_id uuid DEFAULT NULL,
    p_occurred_at timestamptz DEFAULT now())
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current_version bigint;
    current_type text;
    existing events.event_store%ROWTYPE;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id);
    -- Valid arguments pass one expression; only a call that fails it runs the checks that say which argument
    -- is wrong, in signature order (six PERFORMs per append cost more than the rest of the checking).
    IF (length(p_stream_id) <= 200 AND p_stream_id ~ '^[A-Za-z0-9][A-Za-z0-9:._/-]*$'
        AND length(p_stream_type) <= 64 AND p_stream_type ~ '^[A-Z][A-Z0-9_]*$'
        AND length(p_event_type) <= 100 AND p_event_type ~ '^[A-Za-z][A-Za-z0-9_.]*$'
        AND jsonb_typeof(p_payload) = 'object' AND jsonb_typeof(p_metadata) = 'object'
        AND octet_length(p_payload::text) <= 1048576 AND octet_length(p_metadata::text) <= 1048576
        AND p_expected_version IS NOT NULL AND p_occurred_at IS NOT NULL) IS NOT TRUE THEN
        PERFORM iam.assert_text_argument('p_stream_id', p_stream_id, 200, '^[A-Za-z0-9][A-Za-z0-9:._/-]*$');
        PERFORM iam.assert_text_argument('p_stream_type', p_stream_type, 64, '^[A-Z][A-Z0-9_]*$');
        PERFORM iam.assert_text_argument('p_event_type', p_event_type, 100, '^[A-Za-z][A-Za-z0-9_.]*$');
        PERFORM iam.assert_json_argument('p_payload', p_payload);
        PERFORM iam.assert_json_argument('p_metadata', p_metadata);
        IF jsonb_typeof(p_payload) <> 'object' OR jsonb_typeof(p_metadata) <> 'object' THEN
            RAISE EXCEPTION USING ERRCODE = 'LB602',
                MESSAGE = format('p_payload and p_metadata must be JSON objects, got %s and %s', jsonb_typeof(p_payload), jsonb_typeof(p_metadata));
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_expected_version and p_occurred_at must not be NULL';
    END IF;

    IF p_event_id IS NOT NULL THEN
        SELECT * INTO existing FROM events.event_store AS e WHERE e.tenant_id = p_tenant_id AND e.event_id = p_event_id;
        IF FOUND THEN
            RETURN events.replayed_append(existing, p_tenant_id, p_stream_id, p_stream_type, p_event_type, p_payload, p_metadata);
        END IF;
    END IF;

    SELECT e.version, e.stream_type INTO current_version, current_type
      FROM events.event_store AS e
     WHERE e.tenant_id = p_tenant_id AND e.stream_id = p_stream_id
     ORDER BY e.version DESC
     LIMIT 1;
    IF coalesce(current_version, 0) <> p_expected_version THEN
        RAISE EXCEPTION USING ERRCODE = 'LB601',
            MESSAGE = format('wrong expected version for stream %s: expected %s, stream is at %s',
                             p_stream_id, p_expected_version, coalesce(current_version, 0));
    END IF;
    IF current_type IS NOT NULL AND current_type <> p_stream_type THEN
        RAISE EXCEPTION USING ERRCODE = 'LB604',
            MESSAGE = format('stream %s has stream_type %s, not %s', p_stream_id, current_type, p_stream_type);
    END IF;

    -- A concurrent append of the same version (or event id) makes this INSERT wait for it; once it commits,
    -- nothing is inserted and we say why. No EXCEPTION block: that would cost a subtransaction per append.
    INSERT INTO events.event_store (event_id, tenant_id, stream_id, stream_type, version, event_type, payload, metadata, occurred_at)
    VALUES (coalesce(p_event_id, gen_random_uuid()), p_tenant_id, p_stream_id, p_stream_type,
            p_expected_version + 1, p_event_type, p_payload, p_metadata, p_occurred_at)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN p_expected_version + 1;
    END IF;
    IF p_event_id IS NOT NULL THEN
        SELECT * INTO existing FROM events.event_store AS e WHERE e.tenant_id = p_tenant_id AND e.event_id = p_event_id;
        IF FOUND THEN
            RETURN events.replayed_append(existing, p_tenant_id, p_stream_id, p_stream_type, p_event_type, p_payload, p_metadata);
        END IF;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'LB601',
        MESSAGE = format('wrong expected version for stream %s: expected %s, another append won version %s',
                         p_stream_id, p_expected_version, p_expected_version + 1);
END
$$;
COMMENT ON FUNCTION events.append_event(uuid, text, text, text, jsonb, bigint, jsonb, uuid, timestamptz) IS 'Appends an event if the stream is at p_expected_version (0 for a new stream) and returns the new version (expected + 1). Concurrent appends with the same expected version: exactly one wins, the others raise LB601. Idempotent when p_event_id is given. Raises LB001–LB006, LB601, LB602, LB604, LB605.';

REVOKE ALL ON FUNCTION sys.assert_earlier_steps_succeeded(uuid, uuid, integer),
                       sys.saga_report(uuid, uuid, boolean, integer) FROM PUBLIC;

RESET lock_timeout;
RESET statement_timeout;

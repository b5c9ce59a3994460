-- 0061_tenant_scoped_ids.sql — issue 17.6 for sagas and events, and the Citus rule as a catalog contract: saga
-- ids (LB508) and event ids (LB605) are scoped to the tenant as transaction ids are since 0003 — a session bound to
-- A gets for B's saga or event id the answer of an unused id (no existence oracle, no squatting, no wait on B's
-- uncommitted row). Keys become sys.sagas (tenant_id, id), sys.saga_steps (tenant_id, saga_id, step_index) and
-- (tenant_id, saga_id, step_name) with FK (tenant_id, saga_id), events.event_store (tenant_id, event_id),
-- stock.inventory_items and gobernanza.policies (tenant_id, id); the saga functions, sys.active_sagas and
-- events.append_event look ids up with their tenant. Uses the indexes 0060 built concurrently.
-- Only catalog changes run under its ACCESS EXCLUSIVE locks, taken first: the saga step FOREIGN KEY is added NOT VALID
-- (0062 validates it); the saga report functions and sys.active_sagas got their tenant-scoped bodies from 0055.
-- release: 1.1.0
-- transaction: file
-- down: irreversible — afterwards two tenants may hold the same saga or event id, which the 1.0.0 keys (id), (event_id) cannot hold
-- breaking: contract — a saga id or event id another tenant used is no longer refused (LB508, LB605): issue 17.6's isolation promise; the internal sys.saga_report and sys.assert_earlier_steps_succeeded take the tenant as first argument
SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- Every lock this file needs, taken first and in the order the application takes them: a saga call (start_saga,
-- the step reports, sys.active_sagas) locks sagas, then saga_steps; no public function takes two of event_store,
-- inventory_items and policies. Taken one at a time later, a call holding one table while waiting for the next
-- could deadlock with this upgrade, and each wait would stretch the time the earlier tables stay locked.
LOCK TABLE sys.sagas, sys.saga_steps, events.event_store, stock.inventory_items, gobernanza.policies
    IN ACCESS EXCLUSIVE MODE;

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
    REFERENCES sys.sagas (tenant_id, id) ON UPDATE RESTRICT ON DELETE CASCADE NOT VALID;  -- validated by 0062

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

-- The overloads without the tenant (1.0.0's), kept by 0055 for the calls that were running 1.0.0's bodies.
DROP FUNCTION IF EXISTS sys.assert_earlier_steps_succeeded(uuid, integer);
DROP FUNCTION IF EXISTS sys.saga_report(uuid, boolean, integer);

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

RESET lock_timeout;
RESET statement_timeout;

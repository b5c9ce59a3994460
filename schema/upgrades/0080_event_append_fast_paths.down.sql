-- 0080_event_append_fast_paths.down.sql — back to the definitions before 0080 (those of 0020 and 0061).
-- transaction: file

SET lock_timeout = '5s';
SET statement_timeout = '1min';

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

RESET statement_timeout;
RESET lock_timeout;

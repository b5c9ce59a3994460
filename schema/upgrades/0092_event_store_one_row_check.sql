-- 0092_event_store_one_row_check.sql — issue 14: an event INSERT rebuilt event_store's six CHECKs from their stored
-- text (stringToNode) for every statement, more instructions than the row's four indexes. The five value rules
-- (stream_id, stream_type, event_type, payload, metadata) become one CHECK, event_store_row_check, calling the
-- PL/pgSQL function events.event_store_row_is_valid (a SQL function would be inlined back into the long
-- expression, and parsed again per statement: measured slower). Added NOT VALID (no scan under the ACCESS
-- EXCLUSIVE lock; 0093 validates it), then the five old CHECKs are dropped: every new row is checked by the new one
-- from this transaction on. event_store_version_check stays (the version trigger answers a version below 1 first).
-- release: 1.1.0
-- transaction: file
-- down: 0092_event_store_one_row_check.down.sql
-- breaking: contract — a direct INSERT of a bad stream_id, stream_type, event_type, payload or metadata is refused (23514) naming event_store_row_check instead of event_store_stream_id_check, event_store_stream_type_check, event_store_event_type_check, event_store_payload_check or event_store_metadata_check; the rules and events.append_event's errors are unchanged

SET lock_timeout = '5s';
SET statement_timeout = '1min';

-- The event row's value rules, one function for event_store_row_check: PostgreSQL rebuilds a table's CHECKs from
-- their stored text for every INSERT statement, and five CHECKs cost more than the row's indexes (issue 14); one
-- call's text is short. No SET clause (it would cost a configuration save/restore per row): every name is
-- qualified.
CREATE OR REPLACE FUNCTION events.event_store_row_is_valid(
    p_stream_id text,
    p_stream_type text,
    p_event_type text,
    p_payload jsonb,
    p_metadata jsonb)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
BEGIN
    RETURN p_stream_id OPERATOR(pg_catalog.~) '^[A-Za-z0-9][A-Za-z0-9:._/-]*$'
           AND pg_catalog.length(p_stream_id) OPERATOR(pg_catalog.<=) 200
           AND p_stream_type OPERATOR(pg_catalog.~) '^[A-Z][A-Z0-9_]*$'
           AND pg_catalog.length(p_stream_type) OPERATOR(pg_catalog.<=) 64
           AND p_event_type OPERATOR(pg_catalog.~) '^[A-Za-z][A-Za-z0-9_.]*$'
           AND pg_catalog.length(p_event_type) OPERATOR(pg_catalog.<=) 100
           AND pg_catalog.jsonb_typeof(p_payload) OPERATOR(pg_catalog.=) 'object'
           AND pg_catalog.jsonb_typeof(p_metadata) OPERATOR(pg_catalog.=) 'object';
END
$$;
COMMENT ON FUNCTION events.event_store_row_is_valid(text, text, text, jsonb, jsonb) IS 'The CHECK event_store_row_check: stream_id matches ^[A-Za-z0-9][A-Za-z0-9:._/-]*$ (at most 200 characters), stream_type ^[A-Z][A-Z0-9_]*$ (at most 64), event_type ^[A-Za-z][A-Za-z0-9_.]*$ (at most 100), payload and metadata are JSON objects.';

REVOKE ALL ON FUNCTION events.event_store_row_is_valid(text, text, text, jsonb, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION events.event_store_row_is_valid(text, text, text, jsonb, jsonb) TO PUBLIC;

LOCK TABLE events.event_store IN ACCESS EXCLUSIVE MODE;
ALTER TABLE events.event_store
    ADD CONSTRAINT event_store_row_check
        CHECK (events.event_store_row_is_valid(stream_id, stream_type, event_type, payload, metadata)) NOT VALID;
ALTER TABLE events.event_store
    DROP CONSTRAINT event_store_stream_id_check,
    DROP CONSTRAINT event_store_stream_type_check,
    DROP CONSTRAINT event_store_event_type_check,
    DROP CONSTRAINT event_store_payload_check,
    DROP CONSTRAINT event_store_metadata_check;

RESET statement_timeout;
RESET lock_timeout;

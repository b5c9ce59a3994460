-- 0092_event_store_one_row_check.down.sql — event_store's five value CHECKs back in place of event_store_row_check
-- (every row passed the one rule, so the five validate).
-- transaction: file

SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE events.event_store
    ADD CONSTRAINT event_store_stream_id_check
        CHECK (stream_id ~ '^[A-Za-z0-9][A-Za-z0-9:._/-]*$' AND length(stream_id) <= 200) NOT VALID,
    ADD CONSTRAINT event_store_stream_type_check
        CHECK (stream_type ~ '^[A-Z][A-Z0-9_]*$' AND length(stream_type) <= 64) NOT VALID,
    ADD CONSTRAINT event_store_event_type_check
        CHECK (event_type ~ '^[A-Za-z][A-Za-z0-9_.]*$' AND length(event_type) <= 100) NOT VALID,
    ADD CONSTRAINT event_store_payload_check CHECK (jsonb_typeof(payload) = 'object') NOT VALID,
    ADD CONSTRAINT event_store_metadata_check CHECK (jsonb_typeof(metadata) = 'object') NOT VALID;
ALTER TABLE events.event_store DROP CONSTRAINT event_store_row_check;
DROP FUNCTION events.event_store_row_is_valid(text, text, text, jsonb, jsonb);
ALTER TABLE events.event_store VALIDATE CONSTRAINT event_store_stream_id_check;
ALTER TABLE events.event_store VALIDATE CONSTRAINT event_store_stream_type_check;
ALTER TABLE events.event_store VALIDATE CONSTRAINT event_store_event_type_check;
ALTER TABLE events.event_store VALIDATE CONSTRAINT event_store_payload_check;
ALTER TABLE events.event_store VALIDATE CONSTRAINT event_store_metadata_check;

RESET statement_timeout;
RESET lock_timeout;

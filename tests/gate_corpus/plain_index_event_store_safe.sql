-- plain_index_event_store_safe.sql — gate corpus (safe): CREATE INDEX CONCURRENTLY outside a transaction (SHARE UPDATE EXCLUSIVE: appends go on).
-- release: 1.1.0
-- transaction: none
-- down: irreversible — test data for the gate's lock check, never applied to a real database
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE INDEX CONCURRENTLY IF NOT EXISTS event_store_event_type_idx ON events.event_store (event_type);

RESET lock_timeout;
RESET statement_timeout;

-- plain_index_event_store.sql — gate corpus (unsafe): a plain CREATE INDEX on events.event_store: SHARE lock for the whole build, every append waits.
-- release: 1.1.0
-- transaction: file
-- down: irreversible — test data for the gate's lock check, never applied to a real database
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE INDEX event_store_event_type_idx ON events.event_store (event_type);

RESET lock_timeout;
RESET statement_timeout;

-- 0093_event_store_one_row_check_validate.sql — validates event_store_row_check, which 0092 added NOT VALID. VALIDATE
-- takes SHARE UPDATE EXCLUSIVE: appends and reads go on while the events are scanned. The rule is the five CHECKs'
-- that every row already passed, so it cannot fail on a database built by this schema.
-- release: 1.1.0
-- transaction: none
-- down: irreversible — nothing to undo (validation changes no row; the constraint itself is 0092's)
-- breaking: no

SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE events.event_store VALIDATE CONSTRAINT event_store_row_check;

RESET statement_timeout;
RESET lock_timeout;

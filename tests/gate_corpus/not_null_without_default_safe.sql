-- not_null_without_default_safe.sql — gate corpus (safe): the column with a constant default (metadata only) and its NOT NULL as a CHECK … NOT VALID (validated by a later upgrade).
-- release: 1.1.0
-- transaction: file
-- down: irreversible — test data for the gate's lock check, never applied to a real database
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE stock.inventory_items ADD COLUMN location text DEFAULT 'main';
ALTER TABLE stock.inventory_items
    ADD CONSTRAINT inventory_items_location_not_null CHECK (location IS NOT NULL) NOT VALID;

RESET lock_timeout;
RESET statement_timeout;

-- not_null_without_default.sql — gate corpus (unsafe): ADD COLUMN … NOT NULL without a default on a populated table: fails on the existing rows (23502).
-- release: 1.1.0
-- transaction: file
-- down: irreversible — test data for the gate's lock check, never applied to a real database
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE stock.inventory_items ADD COLUMN location text NOT NULL;

RESET lock_timeout;
RESET statement_timeout;

-- check_tightened_violated_safe.sql — gate corpus (safe): the CHECK NOT VALID: new and updated rows obey it now; the existing ones are fixed, then validated, by later upgrades.
-- release: 1.1.0
-- transaction: file
-- down: irreversible — test data for the gate's lock check, never applied to a real database
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

ALTER TABLE stock.inventory_items
    ADD CONSTRAINT inventory_items_quantity_on_hand_small CHECK (quantity_on_hand < 100) NOT VALID;

RESET lock_timeout;
RESET statement_timeout;

-- ambiguous_overload.sql — UNSAFE: CREATE OR REPLACE with one more (defaulted) parameter makes a second overload
-- of stock.reserve_inventory; every base call with four arguments is now ambiguous (42725). Caught by "old clients".
-- release: 1.1.0
-- transaction: file
-- down: irreversible — corpus example
-- breaking: no
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE OR REPLACE FUNCTION stock.reserve_inventory(
    p_tenant_id uuid,
    p_sku text,
    p_quantity integer,
    p_expected_version integer,
    p_note text DEFAULT NULL)
RETURNS TABLE (success boolean, reason text, current_version integer,
               quantity_on_hand integer, quantity_reserved integer)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM stock.change_reservation(p_tenant_id, p_sku, p_quantity, p_expected_version, 1)
$$;
REVOKE ALL ON FUNCTION stock.reserve_inventory(uuid, text, integer, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stock.reserve_inventory(uuid, text, integer, integer, text) TO leadboost_app;

RESET statement_timeout;
RESET lock_timeout;

-- head file: 003_schema_stock.sql

CREATE OR REPLACE FUNCTION stock.reserve_inventory_noted(
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
COMMENT ON FUNCTION stock.reserve_inventory_noted(uuid, text, integer, integer, text) IS 'reserve_inventory with a note.';
REVOKE ALL ON FUNCTION stock.reserve_inventory_noted(uuid, text, integer, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stock.reserve_inventory_noted(uuid, text, integer, integer, text) TO leadboost_app;


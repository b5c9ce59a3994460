-- 020_functions.sql — placing an order and what the application role may do.
CREATE OR REPLACE FUNCTION svc.place_order(p_tenant_id uuid, p_sku text, p_quantity integer)
RETURNS bigint
LANGUAGE sql
AS $$
    INSERT INTO svc.orders (tenant_id, sku, quantity) VALUES (p_tenant_id, p_sku, p_quantity) RETURNING id;
$$;
COMMENT ON FUNCTION svc.place_order(uuid, text, integer) IS 'Records an order; returns its id.';

CREATE OR REPLACE FUNCTION svc.ordered_quantity(p_tenant_id uuid)
RETURNS bigint
LANGUAGE sql
STABLE
AS $$
    SELECT coalesce(sum(quantity), 0) FROM svc.orders WHERE tenant_id = p_tenant_id;
$$;
COMMENT ON FUNCTION svc.ordered_quantity(uuid) IS 'Units ordered by a tenant, all orders.';

GRANT USAGE ON SCHEMA svc TO leadboost_app;
GRANT SELECT, INSERT ON svc.orders TO leadboost_app;
GRANT EXECUTE ON FUNCTION svc.place_order(uuid, text, integer), svc.ordered_quantity(uuid) TO leadboost_app;

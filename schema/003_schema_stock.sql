-- 003_schema_stock.sql — schema stock: inventory with optimistic locking.
--
-- inventory_items.version grows by exactly one on every UPDATE (trigger). reserve_inventory and
-- release_inventory take the version the caller last read; the change is one UPDATE … WHERE version =
-- expected, which PostgreSQL re-evaluates on the newest row version after waiting for a concurrent writer
-- (READ COMMITTED), so a stale caller changes nothing and is told so (success = false, STALE_VERSION).
-- CHECKs keep quantities non-negative and reserved <= on hand. Requires 001. Plain SQL, idempotent.

-- Fail fast instead of queueing behind the application's locks (schema/README.md, "Lock and statement
-- timeouts"); reset at the end of the file.
SET lock_timeout = '5s';
SET statement_timeout = '1min';

CREATE SCHEMA IF NOT EXISTS stock;
COMMENT ON SCHEMA stock IS 'Inventory control with optimistic locking (version column).';

CREATE TABLE IF NOT EXISTS stock.inventory_items (
    id                uuid        NOT NULL DEFAULT gen_random_uuid(),
    tenant_id         uuid        NOT NULL,
    sku               text        NOT NULL,
    name              text,
    quantity_on_hand  integer     NOT NULL DEFAULT 0,
    quantity_reserved integer     NOT NULL DEFAULT 0,
    version           integer     NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT inventory_items_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT inventory_items_tenant_id_sku_key UNIQUE (tenant_id, sku),
    CONSTRAINT inventory_items_tenant_id_fkey FOREIGN KEY (tenant_id)
        REFERENCES iam.tenants (id) ON UPDATE RESTRICT ON DELETE RESTRICT,
    CONSTRAINT inventory_items_sku_check CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    CONSTRAINT inventory_items_name_check CHECK (length(name) BETWEEN 1 AND 200),
    CONSTRAINT inventory_items_quantity_on_hand_check CHECK (quantity_on_hand >= 0),
    CONSTRAINT inventory_items_quantity_reserved_check CHECK (quantity_reserved >= 0),
    CONSTRAINT inventory_items_reserved_within_on_hand_check CHECK (quantity_reserved <= quantity_on_hand),
    CONSTRAINT inventory_items_version_check CHECK (version >= 1)
);
COMMENT ON TABLE stock.inventory_items IS 'Stock per tenant and SKU. Optimistic locking: version grows by one on every UPDATE; writers pass the version they read.';
COMMENT ON COLUMN stock.inventory_items.id IS 'Item identifier.';
COMMENT ON COLUMN stock.inventory_items.tenant_id IS 'Owning tenant (FK iam.tenants ON DELETE RESTRICT).';
COMMENT ON COLUMN stock.inventory_items.sku IS 'Stock keeping unit, unique per tenant: 1–64 of A–Z a–z 0–9 . _ - (starting with a letter or digit).';
COMMENT ON COLUMN stock.inventory_items.name IS 'Display name, 1–200 characters, or NULL.';
COMMENT ON COLUMN stock.inventory_items.quantity_on_hand IS 'Units physically in stock (>= 0).';
COMMENT ON COLUMN stock.inventory_items.quantity_reserved IS 'Units promised to orders (>= 0 and <= quantity_on_hand).';
COMMENT ON COLUMN stock.inventory_items.version IS 'Optimistic-lock version: 1 on insert, +1 on every UPDATE (set by trigger, whatever the UPDATE says).';
COMMENT ON COLUMN stock.inventory_items.created_at IS 'When the item was created.';
COMMENT ON COLUMN stock.inventory_items.updated_at IS 'When the item last changed (set by trigger).';

CREATE OR REPLACE FUNCTION stock.bump_inventory_version()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id OR NEW.sku IS DISTINCT FROM OLD.sku OR NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE EXCEPTION USING ERRCODE = 'LB203',
            MESSAGE = format('inventory item %s: id, tenant_id and sku cannot change', OLD.id);
    END IF;
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION stock.bump_inventory_version() IS 'Trigger: version = OLD.version + 1 and updated_at = now() on every UPDATE; refuses a change of id, tenant_id or sku (LB203).';

DROP TRIGGER IF EXISTS inventory_items_version ON stock.inventory_items;
CREATE TRIGGER inventory_items_version
    BEFORE UPDATE ON stock.inventory_items
    FOR EACH ROW EXECUTE FUNCTION stock.bump_inventory_version();
ALTER TABLE stock.inventory_items ENABLE ALWAYS TRIGGER inventory_items_version;

-- Shared by reserve and release: one guarded UPDATE, then, only if it changed nothing, a read that says why.
CREATE OR REPLACE FUNCTION stock.change_reservation(
    p_tenant_id uuid,
    p_sku text,
    p_quantity integer,
    p_expected_version integer,
    p_delta integer)
RETURNS TABLE (success boolean, reason text, current_version integer,
               quantity_on_hand integer, quantity_reserved integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    item stock.inventory_items%ROWTYPE;
BEGIN
    PERFORM iam.assert_tenant_access(p_tenant_id);
    PERFORM iam.assert_text_argument('p_sku', p_sku, 64);
    IF p_quantity IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_quantity must not be NULL';
    END IF;
    IF p_expected_version IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'LB001', MESSAGE = 'p_expected_version must not be NULL';
    END IF;
    IF p_quantity <= 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'LB202',
            MESSAGE = format('p_quantity must be a positive number of units, got %s', p_quantity);
    END IF;

    UPDATE stock.inventory_items AS i
       SET quantity_reserved = i.quantity_reserved + p_delta * p_quantity
     WHERE i.tenant_id = p_tenant_id
       AND i.sku = p_sku
       AND i.version = p_expected_version
       AND i.quantity_reserved::bigint + p_delta::bigint * p_quantity BETWEEN 0 AND i.quantity_on_hand
    RETURNING i.* INTO item;
    IF FOUND THEN
        RETURN QUERY SELECT true, 'OK'::text, item.version, item.quantity_on_hand, item.quantity_reserved;
        RETURN;
    END IF;

    SELECT * INTO item FROM stock.inventory_items AS i WHERE i.tenant_id = p_tenant_id AND i.sku = p_sku;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'LB201',
            MESSAGE = format('unknown sku %L for tenant %s', p_sku, p_tenant_id);
    END IF;
    RETURN QUERY SELECT false,
        CASE WHEN item.version <> p_expected_version THEN 'STALE_VERSION'
             WHEN p_delta > 0 THEN 'INSUFFICIENT_STOCK'
             ELSE 'INSUFFICIENT_RESERVED' END,
        item.version, item.quantity_on_hand, item.quantity_reserved;
END
$$;
COMMENT ON FUNCTION stock.change_reservation(uuid, text, integer, integer, integer) IS 'Internal: moves quantity_reserved by p_delta * p_quantity when the version matches and the result stays within 0..quantity_on_hand. Use reserve_inventory / release_inventory.';

CREATE OR REPLACE FUNCTION stock.reserve_inventory(
    p_tenant_id uuid,
    p_sku text,
    p_quantity integer,
    p_expected_version integer)
RETURNS TABLE (success boolean, reason text, current_version integer,
               quantity_on_hand integer, quantity_reserved integer)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM stock.change_reservation(p_tenant_id, p_sku, p_quantity, p_expected_version, 1)
$$;
COMMENT ON FUNCTION stock.reserve_inventory(uuid, text, integer, integer) IS 'Reserves p_quantity units if the item is at p_expected_version and has that many unreserved. One row: success, reason (OK | STALE_VERSION | INSUFFICIENT_STOCK), the item''s version and quantities after the call. A failed call changes nothing. Raises LB001–LB005, LB201, LB202.';

CREATE OR REPLACE FUNCTION stock.release_inventory(
    p_tenant_id uuid,
    p_sku text,
    p_quantity integer,
    p_expected_version integer)
RETURNS TABLE (success boolean, reason text, current_version integer,
               quantity_on_hand integer, quantity_reserved integer)
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM stock.change_reservation(p_tenant_id, p_sku, p_quantity, p_expected_version, -1)
$$;
COMMENT ON FUNCTION stock.release_inventory(uuid, text, integer, integer) IS 'Releases p_quantity reserved units if the item is at p_expected_version and has that many reserved. One row: success, reason (OK | STALE_VERSION | INSUFFICIENT_RESERVED), the item''s version and quantities after the call. A failed call changes nothing. Raises LB001–LB005, LB201, LB202.';

ALTER TABLE stock.inventory_items ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON stock.inventory_items;
CREATE POLICY tenant_isolation ON stock.inventory_items
    USING (tenant_id = (SELECT iam.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT iam.current_tenant_id()));
COMMENT ON POLICY tenant_isolation ON stock.inventory_items IS 'Roles subject to RLS see and write only rows of the tenant bound with app.tenant_id.';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA stock FROM PUBLIC;
GRANT USAGE ON SCHEMA stock TO leadboost_app;
GRANT SELECT ON stock.inventory_items TO leadboost_app;
GRANT EXECUTE ON FUNCTION stock.reserve_inventory(uuid, text, integer, integer),
                          stock.release_inventory(uuid, text, integer, integer) TO leadboost_app;

RESET statement_timeout;
RESET lock_timeout;

-- 010_orders.sql — the service's orders, one per tenant purchase (needs the leadboost schema: iam.tenants).
CREATE SCHEMA IF NOT EXISTS svc;
COMMENT ON SCHEMA svc IS 'The example service: orders placed by tenants.';

CREATE TABLE IF NOT EXISTS svc.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES iam.tenants (id),
    sku text NOT NULL CHECK (sku <> ''),
    quantity integer NOT NULL CHECK (quantity > 0),
    placed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE svc.orders IS 'One order of a tenant; the tenant must exist (FK to iam.tenants).';
CREATE INDEX IF NOT EXISTS orders_tenant_idx ON svc.orders (tenant_id);

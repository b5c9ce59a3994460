-- seed.sql — the service's test data, after the package's 008_seed_data.sql: one order of ACME Corp.
INSERT INTO svc.orders (tenant_id, sku, quantity)
SELECT '11111111-1111-1111-1111-111111111111', 'ACME-WIDGET-001', 3
WHERE NOT EXISTS (SELECT 1 FROM svc.orders WHERE tenant_id = '11111111-1111-1111-1111-111111111111');

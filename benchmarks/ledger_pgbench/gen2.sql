\timing on
INSERT INTO iam.tenants (id, name) VALUES ('dddddddd-0000-0000-0000-000000001000','small'), ('dddddddd-0000-0000-0000-000001000000','large');
CREATE TEMP TABLE plan AS SELECT t.id AS tenant, t.n FROM (VALUES ('dddddddd-0000-0000-0000-000000001000'::uuid, 1000), ('dddddddd-0000-0000-0000-000001000000'::uuid, 1000000)) AS t (id, n);
BEGIN;
-- bulk load of balanced postings: the per-row checks are switched off for the load (the data is balanced by
-- construction) and the stored balances are computed once from the legs, as the 0002 upgrade's backfill does.
ALTER TABLE finanzas.ledger_entries DISABLE TRIGGER ledger_entries_balanced, DISABLE TRIGGER ledger_entries_transaction_open, DISABLE TRIGGER ledger_entries_balances;
ALTER TABLE finanzas.transactions DISABLE TRIGGER transactions_balanced;
ALTER TABLE finanzas.account_balance_shards DISABLE TRIGGER account_balance_shards_maintained;
INSERT INTO finanzas.transactions (id, tenant_id, currency)
SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid, p.tenant, 'EUR' FROM plan p, generate_series(1, p.n / 2) AS i;
INSERT INTO finanzas.ledger_entries (tenant_id, transaction_id, account_type, amount, direction, currency)
SELECT p.tenant, ('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid,
       (ARRAY['CASH','BANK','ACCOUNTS_RECEIVABLE','ACCOUNTS_PAYABLE','CUSTOMER_CREDIT','REVENUE','AD_SPEND','EXPENSE','TAX_PAYABLE','EQUITY'])[1 + (i + d) % 10],
       1 + i % 100, CASE d WHEN 0 THEN 1 ELSE -1 END, 'EUR'
  FROM plan p, generate_series(1, p.n / 2) AS i, (VALUES (0), (5)) AS legs (d);
INSERT INTO finanzas.account_balance_shards SELECT tenant_id, account_type, currency, 0, coalesce(sum(amount) FILTER (WHERE direction = 1), 0), coalesce(sum(amount) FILTER (WHERE direction = -1), 0), count(*), max(posted_at) FROM finanzas.ledger_entries GROUP BY 1, 2, 3;
ALTER TABLE finanzas.ledger_entries ENABLE ALWAYS TRIGGER ledger_entries_balanced, ENABLE ALWAYS TRIGGER ledger_entries_transaction_open, ENABLE ALWAYS TRIGGER ledger_entries_balances;
ALTER TABLE finanzas.transactions ENABLE ALWAYS TRIGGER transactions_balanced;
ALTER TABLE finanzas.account_balance_shards ENABLE ALWAYS TRIGGER account_balance_shards_maintained;
COMMIT;
VACUUM ANALYZE;
SELECT tenant_id, count(*) FROM finanzas.ledger_entries GROUP BY 1;

-- 008_seed_data.sql — test data: two tenants with stock, balanced ledger postings, event streams and snapshots,
-- policies, sagas, an idempotency key and backfilled migration rows.
--
-- Fixed identifiers make it idempotent: running it again adds nothing (rows use ON CONFLICT DO NOTHING, the
-- functions used are idempotent on the ids given). Stock is inserted at version 1, so the verification query
--   SELECT * FROM stock.reserve_inventory('11111111-1111-1111-1111-111111111111', 'ACME-WIDGET-001', 10, 1);
-- returns success = true once after seeding. Requires 001–007. Plain SQL.

INSERT INTO iam.tenants (id, name, status) VALUES
    ('11111111-1111-1111-1111-111111111111', 'ACME Corp', 'ACTIVE'),
    ('22222222-2222-2222-2222-222222222222', 'Globex Corporation', 'ACTIVE'),
    ('33333333-3333-3333-3333-333333333333', 'Initech (suspended)', 'SUSPENDED')
ON CONFLICT (id) DO NOTHING;

INSERT INTO stock.inventory_items (tenant_id, sku, name, quantity_on_hand, quantity_reserved) VALUES
    ('11111111-1111-1111-1111-111111111111', 'ACME-WIDGET-001', 'Widget, standard', 100, 0),
    ('11111111-1111-1111-1111-111111111111', 'ACME-GADGET-002', 'Gadget, deluxe', 50, 5),
    ('22222222-2222-2222-2222-222222222222', 'GLX-PART-001', 'Globex part', 20, 0)
ON CONFLICT (tenant_id, sku) DO NOTHING;

DO $$
BEGIN
    -- Opening capital, ad spend paid in cash, an invoice; Globex opening capital.
    PERFORM finanzas.post_transaction('11111111-1111-1111-1111-111111111111',
        '[{"account_type": "CASH", "amount": 10000, "direction": 1},
          {"account_type": "EQUITY", "amount": 10000, "direction": -1}]', 'EUR', 'Opening capital',
        'a0000000-0000-0000-0000-000000000001');
    PERFORM finanzas.post_transaction('11111111-1111-1111-1111-111111111111',
        '[{"account_type": "AD_SPEND", "amount": 250.50, "direction": 1},
          {"account_type": "CASH", "amount": 250.50, "direction": -1}]', 'EUR', 'Campaign spend, week 1',
        'a0000000-0000-0000-0000-000000000002');
    PERFORM finanzas.post_transaction('11111111-1111-1111-1111-111111111111',
        '[{"account_type": "ACCOUNTS_RECEIVABLE", "amount": 1210, "direction": 1},
          {"account_type": "REVENUE", "amount": 1000, "direction": -1},
          {"account_type": "TAX_PAYABLE", "amount": 210, "direction": -1}]', 'EUR', 'Invoice 2025-0001',
        'a0000000-0000-0000-0000-000000000003');
    PERFORM finanzas.post_transaction('22222222-2222-2222-2222-222222222222',
        '[{"account_type": "BANK", "amount": 5000, "direction": 1},
          {"account_type": "EQUITY", "amount": 5000, "direction": -1}]', 'USD', 'Opening capital',
        'a0000000-0000-0000-0000-000000000004');

    -- A campaign stream of five events with snapshots at 3 and 5, an order stream, a Globex stream.
    PERFORM events.append_event('11111111-1111-1111-1111-111111111111', 'campaign-0001', 'CAMPAIGN', 'CampaignCreated',
        '{"name": "Black Friday", "status": "DRAFT", "budget": 1000}', 0, '{}', 'e0000000-0000-0000-0000-000000000001');
    PERFORM events.append_event('11111111-1111-1111-1111-111111111111', 'campaign-0001', 'CAMPAIGN', 'BudgetChanged',
        '{"budget": 1500}', 1, '{}', 'e0000000-0000-0000-0000-000000000002');
    PERFORM events.append_event('11111111-1111-1111-1111-111111111111', 'campaign-0001', 'CAMPAIGN', 'CampaignActivated',
        '{"status": "ACTIVE"}', 2, '{}', 'e0000000-0000-0000-0000-000000000003');
    PERFORM events.append_event('11111111-1111-1111-1111-111111111111', 'campaign-0001', 'CAMPAIGN', 'AudienceChanged',
        '{"audience": "returning-customers"}', 3, '{}', 'e0000000-0000-0000-0000-000000000004');
    PERFORM events.append_event('11111111-1111-1111-1111-111111111111', 'campaign-0001', 'CAMPAIGN', 'CampaignPaused',
        '{"status": "PAUSED", "audience": null}', 4, '{}', 'e0000000-0000-0000-0000-000000000005');
    PERFORM events.create_snapshot('11111111-1111-1111-1111-111111111111', 'campaign-0001', 3);
    PERFORM events.create_snapshot('11111111-1111-1111-1111-111111111111', 'campaign-0001', 5);
    PERFORM events.append_event('11111111-1111-1111-1111-111111111111', 'order-0001', 'ORDER', 'OrderPlaced',
        '{"sku": "ACME-WIDGET-001", "quantity": 2}', 0, '{}', 'e0000000-0000-0000-0000-000000000006');
    PERFORM events.append_event('22222222-2222-2222-2222-222222222222', 'campaign-0001', 'CAMPAIGN', 'CampaignCreated',
        '{"name": "Globex launch", "status": "DRAFT"}', 0, '{}', 'e0000000-0000-0000-0000-000000000007');

    -- A saga halfway through, and one that failed at step 2 and was compensated.
    PERFORM sys.start_saga('11111111-1111-1111-1111-111111111111', 'campaign.launch',
        '["reserve_budget", "create_ads", "notify_owner"]', '{"campaign": "campaign-0001"}',
        'c0000000-0000-0000-0000-000000000001');
    PERFORM sys.record_step_success('11111111-1111-1111-1111-111111111111', 'c0000000-0000-0000-0000-000000000001', 1);
    PERFORM sys.start_saga('11111111-1111-1111-1111-111111111111', 'order.place',
        '["reserve_stock", "charge_card", "ship"]', '{"order": "order-0001"}',
        'c0000000-0000-0000-0000-000000000002');
    PERFORM sys.record_step_success('11111111-1111-1111-1111-111111111111', 'c0000000-0000-0000-0000-000000000002', 1);
    PERFORM sys.record_step_failure('11111111-1111-1111-1111-111111111111', 'c0000000-0000-0000-0000-000000000002', 2,
        'card declined');
    PERFORM sys.record_compensation_done('11111111-1111-1111-1111-111111111111', 'c0000000-0000-0000-0000-000000000002', 1);
END
$$;

-- A request already answered: a retry with the same payload gets the stored response.
DO $$
DECLARE
    claim record;
BEGIN
    SELECT * INTO claim FROM sys.claim_request_key('11111111-1111-1111-1111-111111111111', 'seed-order-0001',
        '{"order": "order-0001", "sku": "ACME-WIDGET-001", "quantity": 2}', p_ttl => interval '30 days');
    IF claim.outcome IN ('CLAIMED', 'RECLAIMED') THEN
        PERFORM sys.complete_request_key('11111111-1111-1111-1111-111111111111', 'seed-order-0001', claim.lock_token,
            '{"status": 201, "order": "order-0001"}');
    END IF;
END
$$;

INSERT INTO gobernanza.policies (id, tenant_id, name, description, policy_type, action, limit_value, window_seconds,
                                 failure_threshold, cooldown_seconds, breaker_state, priority, is_active) VALUES
    ('b0000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111', 'daily-ad-spend',
     'At most 5000 EUR of ad spend per day', 'SPEND_LIMIT', 'ads.spend', 5000, 86400, NULL, NULL, NULL, 10, true),
    ('b0000000-0000-0000-0000-000000000002', '11111111-1111-1111-1111-111111111111', 'api-rate',
     'At most 1000 actions per minute', 'RATE_LIMIT', '*', 1000, 60, NULL, NULL, NULL, 20, true),
    ('b0000000-0000-0000-0000-000000000003', '11111111-1111-1111-1111-111111111111', 'ads-provider-breaker',
     'Stop calling the ads provider after 5 consecutive failures, probe again after 5 minutes',
     'CIRCUIT_BREAKER', 'ads.spend', NULL, NULL, 5, 300, 'CLOSED', 30, true),
    ('b0000000-0000-0000-0000-000000000004', '22222222-2222-2222-2222-222222222222', 'exports-kill-switch',
     'Data exports disabled (inactive until needed)', 'KILL_SWITCH', 'data.export',
     NULL, NULL, NULL, NULL, NULL, 0, false)
ON CONFLICT (tenant_id, name) DO NOTHING;

INSERT INTO migration.batch_control (id, tenant_id, firebase_id, collection, phase, status, expected_count,
                                     processed_count, started_at, finished_at) VALUES
    ('d0000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111', 'seed-batch-campaigns-001',
     'campaigns', 'B_BACKFILL', 'COMPLETED', 2, 2, now() - interval '2 hours', now() - interval '1 hour'),
    ('d0000000-0000-0000-0000-000000000002', '11111111-1111-1111-1111-111111111111', 'seed-batch-signals-001',
     'raw_signals', 'B_BACKFILL', 'COMPLETED', 3, 3, now() - interval '2 hours', now() - interval '1 hour'),
    ('d0000000-0000-0000-0000-000000000003', '11111111-1111-1111-1111-111111111111', 'seed-batch-audit-001',
     'audit_logs', 'B_BACKFILL', 'COMPLETED', 2, 2, now() - interval '2 hours', now() - interval '1 hour')
ON CONFLICT (firebase_id) DO NOTHING;

INSERT INTO migration.campaigns (tenant_id, firebase_id, batch_id, name, status, budget, currency, payload,
                                 source_created_at) VALUES
    ('11111111-1111-1111-1111-111111111111', 'fb-campaign-7Hq2LmN0', 'd0000000-0000-0000-0000-000000000001',
     'Black Friday', 'ACTIVE', 1500, 'EUR', '{"channel": "search"}', '2025-11-01T09:00:00Z'),
    ('11111111-1111-1111-1111-111111111111', 'fb-campaign-9Kx4PqR2', 'd0000000-0000-0000-0000-000000000001',
     'Spring sale', 'ARCHIVED', 800, 'EUR', '{"channel": "social"}', '2025-03-01T09:00:00Z')
ON CONFLICT (firebase_id) DO NOTHING;

INSERT INTO migration.raw_signals (tenant_id, firebase_id, batch_id, signal_type, payload, source_created_at) VALUES
    ('11111111-1111-1111-1111-111111111111', 'fb-signal-A1', 'd0000000-0000-0000-0000-000000000002',
     'web.visit', '{"path": "/pricing"}', '2025-11-02T10:00:00Z'),
    ('11111111-1111-1111-1111-111111111111', 'fb-signal-A2', 'd0000000-0000-0000-0000-000000000002',
     'form.submit', '{"form": "demo-request"}', '2025-11-02T10:05:00Z'),
    ('11111111-1111-1111-1111-111111111111', 'fb-signal-A3', 'd0000000-0000-0000-0000-000000000002',
     'email.open', '{"campaign": "fb-campaign-7Hq2LmN0"}', '2025-11-02T11:00:00Z')
ON CONFLICT (firebase_id) DO NOTHING;

INSERT INTO migration.audit_logs (tenant_id, firebase_id, batch_id, actor, action, entity_type, entity_id, details,
                                  occurred_at) VALUES
    ('11111111-1111-1111-1111-111111111111', 'fb-audit-001', 'd0000000-0000-0000-0000-000000000003',
     'user:ana', 'campaign.create', 'campaign', 'fb-campaign-7Hq2LmN0', '{}', '2025-11-01T09:00:00Z'),
    ('11111111-1111-1111-1111-111111111111', 'fb-audit-002', 'd0000000-0000-0000-0000-000000000003',
     'user:ana', 'campaign.activate', 'campaign', 'fb-campaign-7Hq2LmN0', '{"budget": 1500}', '2025-11-01T09:30:00Z')
ON CONFLICT (firebase_id) DO NOTHING;

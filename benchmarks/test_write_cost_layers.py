"""Where a write's time goes: the same rows written with one more layer of the schema each time — the tables'
indexes; their CHECKs and foreign keys; the schema's own tables with their triggers (written directly, as the
owner). The public function itself is test_write_paths.py. Each is paired with the same baseline as the
function, so the steps between the ratios are what each layer costs."""
from __future__ import annotations

import pytest
import write_workloads as work

from leadboost_schema.bench.measure import Paired

pytestmark = pytest.mark.benchmark(group="write cost layers")

PLAIN_EVENTS, PLAIN_KEYS = "bench.plain_events", "bench.plain_request_keys"
EVENT_LAYERS = {"insert_event_indexed": "bench.indexed_events",
                "insert_event_constrained": "bench.constrained_events",
                "insert_into_event_store": "events.event_store"}


@pytest.mark.parametrize("path", list(EVENT_LAYERS))
def test_event_row_layers(measure, client_pool, bench_db, bench_clients, path):
    """The row event_append writes, into: a bare table with event_store's four indexes; the same with its
    CHECKs and foreign key; events.event_store itself (its version trigger too)."""
    tenants = bench_db.dataset.tenant_ids[:bench_clients]
    measure.concurrently(path, client_pool([None] * len(tenants)),
                         work.event_appends(tenants, EVENT_LAYERS[path]),
                         baseline=Paired("plain_insert_event", work.event_appends(tenants, PLAIN_EVENTS)))


def test_posting_rows_into_the_ledger(measure, client_pool, bench_db, bench_clients):
    """A 2-leg posting's rows straight into finanzas.transactions and ledger_entries (their triggers, the
    deferred balance check at COMMIT, CHECKs and foreign keys), without the function."""
    tenants = bench_db.dataset.tenant_ids[:bench_clients]
    measure.concurrently("insert_into_ledger_2", client_pool([None] * len(tenants)),
                         work.postings(tenants, 2, ("finanzas.transactions", "finanzas.ledger_entries")),
                         baseline=Paired("tpcb_like", work.tpcb(bench_clients)),
                         also=("plain_insert_posting_2",), rounds=120)


def test_claim_complete_rows_into_request_keys(measure, client_pool, bench_db, bench_clients):
    """An idempotency key inserted, then completed, straight in sys.request_keys (CHECKs, foreign key)."""
    tenants = bench_db.dataset.tenant_ids[:bench_clients]
    measure.concurrently("claim_complete_into_request_keys", client_pool([None] * len(tenants)),
                         work.claims(tenants, "sys.request_keys"),
                         baseline=Paired("plain_claim_complete", work.claims(tenants, PLAIN_KEYS)))


def test_hot_item_updates_in_inventory_items(measure, client_pool, bench_db, bench_clients):
    """Reserve then release by plain UPDATEs of stock.inventory_items (its version trigger and CHECKs), no
    expected version: they wait for each other's row lock instead of retrying."""
    tenant = bench_db.dataset.probe_tenant
    clients = bench_clients
    measure.concurrently(f"update_inventory_items_hot_{clients}c", client_pool([None] * clients),
                         work.hot_item_updates(tenant, clients, "stock.inventory_items"),
                         baseline=Paired(f"plain_update_hot_{clients}c",
                                         work.hot_item_updates(tenant, clients, "bench.plain_items")))

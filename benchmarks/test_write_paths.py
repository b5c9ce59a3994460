"""Write and hot paths through the public functions, as leadboost_app bound to its tenant, several clients at
once: event append with expected version, ledger postings (2 and 4 legs), reserve/release on two hot items, an
idempotency key's claim + complete and its replay. Each runs paired with its baseline, round by round."""
from __future__ import annotations

import pytest
import write_workloads as work
from workload_rows import LEGS, REQUEST_PAYLOAD, RESPONSE

from leadboost_schema.bench.measure import Paired
from leadboost_schema.catalog.hot_queries import CALLS

pytestmark = pytest.mark.benchmark(group="writes")

PLAIN_EVENTS, PLAIN_KEYS = "bench.plain_events", "bench.plain_request_keys"


def test_event_append(measure, client_pool, bench_db, bench_clients):
    """Each client appends to ten streams of its own tenant, with the version it last saw (as an aggregate
    does)."""
    tenants = bench_db.dataset.tenant_ids[:bench_clients]
    measure.concurrently("event_append", client_pool(tenants), work.event_appends(tenants), target=0.5,
                         baseline=Paired("plain_insert_event", work.event_appends(tenants, PLAIN_EVENTS)))


@pytest.mark.parametrize("legs", sorted(LEGS))
def test_ledger_posting(measure, client_pool, bench_db, bench_clients, legs):
    """finanzas.post_transaction: validated, balanced, append-only, checked again at COMMIT."""
    tenants = bench_db.dataset.tenant_ids[:bench_clients]
    measure.concurrently(f"ledger_posting_{legs}", client_pool(tenants), work.postings(tenants, legs),
                         baseline=Paired("tpcb_like", work.tpcb(bench_clients)),
                         target=0.7 if legs == 2 else None,
                         rounds=120,  # the TPC-B rounds wait on the branch row: more jitter, more rounds
                         also=(f"plain_insert_posting_{legs}", "tpcb_like_pipelined"))


@pytest.mark.parametrize("factor", [1, 2], ids=["clients", "twice_the_clients"])
def test_reserve_release_hot_items(measure, client_pool, bench_db, bench_clients, factor):
    """Reserve then release on two hot items, optimistic: a stale version is retried with the one reported."""
    clients = bench_clients * factor
    tenant = bench_db.dataset.probe_tenant
    reservations = work.Reservations(tenant, clients)
    measure.concurrently(f"reserve_release_hot_{clients}c", client_pool([tenant] * clients), reservations,
                         baseline=Paired(f"plain_update_hot_{clients}c",
                                         work.hot_item_updates(tenant, clients, "bench.plain_items")))
    measure.note(stale_retries_per_call=round(reservations.retries / max(1, reservations.calls), 3))


def test_idempotency_claim_complete(measure, client_pool, bench_db, bench_clients):
    """A new key claimed (CLAIMED, lock token) and completed with its response."""
    tenants = bench_db.dataset.tenant_ids[:bench_clients]
    measure.concurrently("idempotency_claim_complete", client_pool(tenants), work.claims(tenants),
                         baseline=Paired("plain_claim_complete", work.claims(tenants, PLAIN_KEYS)))


def test_idempotency_replay(measure, app_conn, bench_db, pk_select):
    """A retried request: its key is COMPLETED, the stored response comes back (what most retries see)."""
    params = {"tenant": bench_db.dataset.probe_tenant, "key": "bench-replayed", "payload": REQUEST_PAYLOAD}
    token = app_conn.execute(CALLS["claim_request_key"].sql, params).fetchone()[1]
    app_conn.execute(CALLS["complete_request_key"].sql, {**params, "lock_token": token, "response": RESPONSE})

    def replay():
        outcome, _ = app_conn.execute(CALLS["claim_request_key"].sql, params).fetchone()
        assert outcome == "COMPLETED", outcome

    measure.calls("idempotency_replay", replay, rounds=500, baseline=pk_select)

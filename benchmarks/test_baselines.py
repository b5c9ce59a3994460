"""In-run baselines on their own: what the same server does with the same rows and none of the schema's rules
— a primary-key SELECT for reads; plain INSERTs/UPDATEs into bare tables and pgbench's TPC-B-like transaction
for writes. Each measured path also runs its baseline paired, round by round (see conftest.Measure); these
give the baselines' own figures and the "also" comparisons."""
from __future__ import annotations

import pytest
import write_workloads as work
from workload_rows import LEGS

pytestmark = pytest.mark.benchmark(group="baselines")

PLAIN_LEDGER = ("bench.plain_transactions", "bench.plain_ledger_entries")


def test_pk_select(measure, pk_select):
    """One event by primary key, as leadboost_app bound to its tenant (row-level security applies)."""
    measure.calls("pk_select", pk_select.work, rounds=1000)


def test_plain_insert_event(measure, client_pool, bench_db, bench_clients):
    """The event's row into a bare table: same columns and defaults, a primary key, nothing else."""
    tenants = bench_db.dataset.tenant_ids[:bench_clients]
    measure.concurrently("plain_insert_event", client_pool(tenants),
                         work.event_appends(tenants, "bench.plain_events"))


@pytest.mark.parametrize("legs", sorted(LEGS))
def test_plain_insert_posting(measure, client_pool, bench_db, bench_clients, legs):
    """A posting's header and legs into bare tables, in one statement (as the function call is one)."""
    tenants = bench_db.dataset.tenant_ids[:bench_clients]
    measure.concurrently(f"plain_insert_posting_{legs}", client_pool(tenants),
                         work.postings(tenants, legs, PLAIN_LEDGER))


@pytest.mark.parametrize("pipelined", [False, True], ids=["pgbench", "pipelined"])
def test_tpcb_like(measure, client_pool, bench_db, bench_clients, pipelined):
    """pgbench's TPC-B-like transaction at scale 1: as pgbench sends it (seven round trips), and pipelined
    into one round trip (the stricter comparison for a write that is one function call)."""
    measure.concurrently("tpcb_like_pipelined" if pipelined else "tpcb_like",
                         client_pool(bench_db.dataset.tenant_ids[:bench_clients]),
                         work.tpcb(bench_clients, pipelined))


@pytest.mark.parametrize("factor", [1, 2], ids=["clients", "twice_the_clients"])
def test_plain_update_hot_items(measure, client_pool, bench_db, bench_clients, factor):
    clients = bench_clients * factor
    tenant = bench_db.dataset.probe_tenant
    measure.concurrently(f"plain_update_hot_{clients}c", client_pool([tenant] * clients),
                         work.hot_item_updates(tenant, clients, "bench.plain_items"))


def test_plain_claim_complete(measure, client_pool, bench_db, bench_clients):
    """An idempotency key's row inserted, then updated to COMPLETED, in a bare table with the same key."""
    tenants = bench_db.dataset.tenant_ids[:bench_clients]
    measure.concurrently("plain_claim_complete", client_pool(tenants),
                         work.claims(tenants, "bench.plain_request_keys"))

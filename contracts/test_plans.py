"""Plan contracts: every hot path reads the large tables by its intended index, never by a sequential scan.

On a small generated dataset of production shape (10^4 events in skewed streams over 20 tenants, snapshots, a
ledger, stock, idempotency keys) with real statistics (VACUUM ANALYZE, no planner switches turned off): the reads
as a service (leadboost_app bound to its tenant) or a projector (the owner) sends them, custom and generic plans;
and the public functions on the write and rehydration paths, whose inner statements, trigger queries and
foreign-key checks auto_explain reports. The hot paths and their indexes are ``leadboost_schema.hot_queries``.
"""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from leadboost_schema.bench_data import HOT_SKUS, Dataset, DatasetShape, load_dataset
from leadboost_schema.clones import fresh_database
from leadboost_schema.hot_queries import CALLS, LARGE_TABLES, READS, HotQuery
from leadboost_schema.plan_check import Scan, explain, index_violations, nested_plans, scans

# Small enough to load in a few seconds; snapshots every 4 events so events.snapshots has pages enough for an
# index to beat a scan, as it does in production.
SHAPE = DatasetShape(events=10_000, probe_lengths=(100, 1_000), snapshot_every=4)
PROBE = 1_000


@pytest.fixture(scope="module")
def planned(leadboost_server, leadboost_template) -> Iterator[tuple[str, Dataset]]:
    """A database with the dataset loaded and analysed, shared by this module's tests."""
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            dataset = load_dataset(conn, SHAPE)
        yield dsn, dataset


@pytest.fixture
def conn(planned) -> Iterator[psycopg.Connection]:
    with psycopg.connect(planned[0], autocommit=True) as connection:
        yield connection


@contextlib.contextmanager
def acting_as(conn: psycopg.Connection, role: str, tenant: uuid.UUID) -> Iterator[None]:
    """``app``: leadboost_app bound to ``tenant`` (row-level security applies); ``owner``: as connected."""
    if role == "app":
        conn.execute("SET ROLE leadboost_app")
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))
    try:
        yield
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET app.tenant_id")


def read_parameters(dataset: Dataset, name: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    # Whole-tenant reads use a mid-sized tenant: the largest holds a fifth of the rows, where a scan is fair.
    tenant = dataset.tenant_ids[len(dataset.tenant_ids) // 2] if name.startswith(("tenant_", "account_")) \
        else dataset.probe_tenant
    return {"tenant": tenant, "stream": dataset.probe_streams[PROBE], "after_version": PROBE // 2, "limit": 50,
            "stream_type": "CAMPAIGN", "since": now - timedelta(days=30), "until": now - timedelta(days=20),
            "position": dataset.event_count // 2}


def assert_reads_by_index(found: list[Scan], query: HotQuery) -> None:
    assert found, "the plan reads no table at all"
    assert not index_violations(found, query.indexes, LARGE_TABLES), "\n".join(
        index_violations(found, query.indexes, LARGE_TABLES))
    unread = set(query.indexes) - {scan.table for scan in found}
    assert not unread, f"the hot path no longer reads {sorted(unread)}: update hot_queries if that is intended"


@pytest.mark.parametrize("generic", [False, True], ids=["custom_plan", "generic_plan"])
@pytest.mark.parametrize("name", sorted(READS))
def test_hot_read_uses_its_index(conn, planned, name, generic):
    query = READS[name]
    dataset = planned[1]
    params = read_parameters(dataset, name)
    with acting_as(conn, query.role, params["tenant"]):
        plan = explain(conn, query.sql, params, generic=generic)
    assert_reads_by_index(scans(plan), query)


def _current_version(conn: psycopg.Connection, tenant: uuid.UUID, stream: str) -> int:
    return conn.execute("SELECT max(version) FROM events.event_store WHERE tenant_id = %s AND stream_id = %s",
                        (tenant, stream)).fetchone()[0]


def _item_version(conn: psycopg.Connection, tenant: uuid.UUID, sku: str) -> int:
    return conn.execute("SELECT version FROM stock.inventory_items WHERE tenant_id = %s AND sku = %s",
                        (tenant, sku)).fetchone()[0]


def call_scenario(conn: psycopg.Connection, dataset: Dataset, name: str) -> list[tuple[str, dict[str, Any]]]:
    """The call(s) to observe for a hot function, with their parameters, after any setup they need (unobserved).
    Each scenario commits its work: the deferred ledger check runs, and its plan is observed, only at COMMIT."""
    tenant, stream = dataset.probe_tenant, dataset.probe_streams[PROBE]
    key = f"plan-{uuid.uuid4()}"
    if name == "append_event":
        return [(name, {"tenant": tenant, "stream": stream, "stream_type": "CAMPAIGN", "event_type": "BudgetChanged",
                        "payload": Jsonb({"daily_budget": 120.5}),
                        "expected_version": _current_version(conn, tenant, stream)})]
    if name in ("rehydrate", "replay_stream"):
        return [(name, {"tenant": tenant, "stream": stream})]
    if name == "post_transaction":
        return [(name, {"tenant": tenant, "legs": Jsonb([{"account_type": "CASH", "amount": 10.5, "direction": 1},
                                                         {"account_type": "REVENUE", "amount": 10.5, "direction": -1}])})]
    if name in ("reserve_inventory", "release_inventory"):
        item = {"tenant": tenant, "sku": HOT_SKUS[0], "quantity": 1}
        if name == "release_inventory":
            conn.execute(CALLS["reserve_inventory"].sql, {**item, "expected_version": _item_version(conn, tenant, HOT_SKUS[0])})
        return [(name, {**item, "expected_version": _item_version(conn, tenant, HOT_SKUS[0])})]
    if name == "claim_request_key":
        claim = {"tenant": tenant, "key": key, "payload": Jsonb({"amount": 10})}
        return [(name, claim), (name, claim)]  # a new key, then the same key again (found and locked)
    if name == "complete_request_key":
        token = conn.execute(CALLS["claim_request_key"].sql,
                             {"tenant": tenant, "key": key, "payload": Jsonb({"amount": 10})}).fetchone()[1]
        return [(name, {"tenant": tenant, "key": key, "lock_token": token, "response": Jsonb({"status": 201})})]
    raise AssertionError(f"no scenario for {name}: add one when adding a hot call")


@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_hot_call_reads_by_index_inside(conn, planned, name, plan_cache_mode):
    dataset = planned[1]
    with acting_as(conn, "app", dataset.probe_tenant):
        scenario = call_scenario(conn, dataset, name)
    with nested_plans(conn) as found:
        conn.execute("SELECT set_config('plan_cache_mode', %s, false)", (plan_cache_mode,))
        with acting_as(conn, "app", dataset.probe_tenant):
            for call, params in scenario:
                conn.execute(CALLS[call].sql, params).fetchall()
    assert_reads_by_index(found, CALLS[name])


def test_plan_reader_sees_a_sequential_scan(conn):
    """The checks above can fail: a query with no usable index is reported as a sequential scan."""
    query = HotQuery("SELECT * FROM events.event_store WHERE payload ? 'score'",
                     {"events.event_store": ("event_store_stream_version_key",)})
    found = scans(explain(conn, query.sql))
    assert [scan.node for scan in found] == ["Seq Scan"]
    assert index_violations(found, query.indexes, LARGE_TABLES)

"""Interleaving harness speed: Hypothesis examples per second for 2 and 3 sessions, and its overhead.

Run: ``pytest benchmarks/test_interleaving_bench.py -p no:xdist`` (group "interleaving"). One example = a fresh
tenant and item, then every session runs BEGIN; reserve_inventory(1 unit at version 1); COMMIT in a drawn
interleaving (one session wins, the others wait and get STALE_VERSION), then one check query.
Target (issue 4): at least 100 examples/s for 2 sessions. ``extra_info`` holds examples/s per round's median;
the overhead is the ratio of the fixed-schedule harness to the same SQL on one connection, in the same run.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadboost_schema.testing.factories import make_tenant
from leadboost_schema.testing.interleaving import BEGIN, COMMIT, Scenario, Scheduler, Step

pytestmark = pytest.mark.benchmark(group="interleaving")
EXAMPLES_PER_ROUND = 60
RESERVE = "SELECT success FROM stock.reserve_inventory(%s, 'SKU-1', %s, 1)"


def new_item(conn) -> object:
    tenant = make_tenant(conn)
    conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, quantity_on_hand) VALUES (%s, 'SKU-1', 10)",
                 (tenant,))
    return tenant


def story(tenant, sessions: list[str], quantity: int) -> Scenario:
    reserve = Step("reserve", RESERVE, (tenant, quantity))
    return Scenario({name: [BEGIN, reserve, COMMIT] for name in sessions})


def check(conn, tenant, quantity: int) -> None:
    version, reserved = conn.execute("SELECT version, quantity_reserved FROM stock.inventory_items"
                                     " WHERE tenant_id = %s", (tenant,)).fetchone()
    assert (version, reserved) == (2, quantity)  # exactly one reservation won


def examples_per_second(benchmark, dsn: str, conn, sessions: int) -> None:
    counted = {"examples": 0}
    with Scheduler(dsn, sessions=sessions) as scheduler:
        @settings(max_examples=EXAMPLES_PER_ROUND, database=None, deadline=None, derandomize=False,
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data(), quantity=st.integers(1, 10))
        def example(data, quantity):
            tenant = new_item(conn)
            scheduler.run(story(tenant, scheduler.names, quantity), data)
            check(conn, tenant, quantity)
            counted["examples"] += 1

        benchmark.pedantic(example, rounds=5, warmup_rounds=1)
    rounds = 6  # warm-up included in the count, not in the timings
    per_round = counted["examples"] / rounds
    benchmark.extra_info["examples_per_round"] = per_round
    benchmark.extra_info["examples_per_second"] = round(per_round / benchmark.stats.stats.median, 1)


def test_two_sessions_examples_per_second(benchmark, leadboost_dsn, leadboost_conn):
    examples_per_second(benchmark, leadboost_dsn, leadboost_conn, sessions=2)


def test_three_sessions_examples_per_second(benchmark, leadboost_dsn, leadboost_conn):
    examples_per_second(benchmark, leadboost_dsn, leadboost_conn, sessions=3)


def test_overhead_baseline_same_sql_on_one_connection(benchmark, leadboost_conn):
    """The same example's SQL, session after session, on one connection: no threads, no monitor, no Hypothesis."""
    def one_example():
        tenant = new_item(leadboost_conn)
        for _ in range(2):
            leadboost_conn.execute("BEGIN")
            leadboost_conn.execute(RESERVE, (tenant, 3))
            leadboost_conn.execute("COMMIT")
        check(leadboost_conn, tenant, 3)

    benchmark.pedantic(one_example, rounds=200, warmup_rounds=5)


def test_overhead_harness_with_a_fixed_schedule(benchmark, leadboost_dsn, leadboost_conn):
    """The same example through the harness, two sessions, serial schedule (no waits): the harness's own cost."""
    with Scheduler(leadboost_dsn, sessions=2) as scheduler:
        def one_example():
            tenant = new_item(leadboost_conn)
            scheduler.run(story(tenant, scheduler.names, 3), schedule=["s0"] * 3 + ["s1"] * 3)
            check(leadboost_conn, tenant, 3)

        benchmark.pedantic(one_example, rounds=200, warmup_rounds=5)


@pytest.mark.benchmark(group="interleaving-isolation")
def test_isolation_fresh_tenant_per_example(benchmark, leadboost_conn):
    """What the properties do per example: one committed tenant on the control connection (sessions are the
    scheduler's, opened once per test)."""
    benchmark.pedantic(lambda: make_tenant(leadboost_conn), rounds=200, warmup_rounds=5)


@pytest.mark.benchmark(group="interleaving-isolation")
def test_isolation_leadboost_example_tenant_scope(benchmark, leadboost_example):
    """The plugin's helper for concurrent examples: a fresh tenant plus two reusable session connections reset."""
    def one_example():
        with leadboost_example.tenant(sessions=2):
            pass

    benchmark.pedantic(one_example, rounds=200, warmup_rounds=5)

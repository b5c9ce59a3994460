"""Per-test isolation cost: this plugin's fresh database and per-example isolation next to the common baseline.

Run: ``pytest benchmarks/test_isolation_bench.py`` (group "isolation"; compare medians within one run).
Targets (issue 2): per-example isolation < 2 ms, fresh database < 30 ms.
"""
from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from leadboost_schema.databases.clones import ClonePool, new_database_name
from leadboost_schema.testing.factories import make_tenant
from leadboost_schema.testing.isolation import ExampleIsolation

pytestmark = pytest.mark.benchmark(group="isolation")


def _use(dsn: str) -> None:
    """What every test does with its database at least: connect and run one statement."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT 1")


def test_baseline_create_from_template_and_drop(benchmark, leadboost_server, leadboost_template):
    """What common plugins do per test: CREATE DATABASE ... TEMPLATE (default strategy) + DROP, in line."""
    with psycopg.connect(leadboost_server.admin_dsn, autocommit=True) as admin:
        def one_test() -> None:
            name = new_database_name()
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(leadboost_template)))
            _use(leadboost_server.dsn(name))
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))

        benchmark.pedantic(one_test, rounds=15, warmup_rounds=1)


def test_fresh_database_synchronous_clone(benchmark, leadboost_server, leadboost_template):
    """The fixture path with --leadboost-pool-size=0: FILE_COPY clone in line, drop in line."""
    pool = ClonePool(leadboost_server, leadboost_template, size=0)

    def one_test() -> None:
        name = pool.take()
        _use(leadboost_server.dsn(name))
        pool.release(name)

    benchmark.pedantic(one_test, rounds=15, warmup_rounds=1)


def test_fresh_database_warm_pool(benchmark, leadboost_server, leadboost_template):
    """The default fixture path: a clone already made by the pool's thread, dropped later off the critical path.
    Between rounds the pool catches up (as it does while a real test body runs)."""
    pool = ClonePool(leadboost_server, leadboost_template, size=2)
    try:
        def one_test() -> None:
            name = pool.take()
            _use(leadboost_server.dsn(name))
            pool.release(name)

        benchmark.pedantic(one_test, setup=pool.wait_full, rounds=15, warmup_rounds=1)
    finally:
        pool.close()


def test_per_example_rollback(benchmark, leadboost_dsn):
    """``with leadboost_example() as conn:`` around a one-row example (the row insert included)."""
    isolation = ExampleIsolation(leadboost_dsn)

    def one_example() -> None:
        with isolation() as conn:
            make_tenant(conn)

    benchmark(one_example)
    isolation.close()


def test_per_example_fresh_tenant_two_sessions(benchmark, leadboost_dsn):
    """``with leadboost_example.tenant(sessions=2) as scope:`` (a committed tenant, two reused sessions)."""
    isolation = ExampleIsolation(leadboost_dsn)

    def one_example() -> None:
        with isolation.tenant(sessions=2) as scope:
            scope.sessions[0].execute("SELECT 1")

    benchmark(one_example)
    isolation.close()


def test_per_example_baseline_one_row(benchmark, leadboost_conn):
    """The example's own work without isolation (one tenant row), to read the isolation overhead against."""
    benchmark(make_tenant, leadboost_conn)

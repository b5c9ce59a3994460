"""Benchmark fixtures: the options, one production-shaped database loaded once per session, client connections
as the services make them, and ``measure``, which records each path with its baseline for the ratio report.

Not in the default test run (pyproject testpaths): ``tox -e bench``, or ``pytest benchmarks/ -p no:xdist``.
"""
from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
from baseline_workloads import create_baseline_tables
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.string import TextLoader

from leadboost_schema.bench.clients import ClientPool
from leadboost_schema.bench.data import HOT_SKUS, Dataset, DatasetShape, load_dataset
from leadboost_schema.bench.measure import Measure, Paired
from leadboost_schema.catalog.hot_queries import READS
from leadboost_schema.databases.clones import fresh_database

_RUN_INFO = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("leadboost-bench", "leadboost-schema benchmarks")
    group.addoption("--bench-scale", default=os.environ.get("LEADBOOST_BENCH_SCALE", "1e5"),
                    help="events in the benchmark dataset, e.g. 1e5 (default, a CI-sized run) or 1e6 "
                         "(env LEADBOOST_BENCH_SCALE)")
    group.addoption("--bench-clients", type=int, default=int(os.environ.get("LEADBOOST_BENCH_CLIENTS", "2")),
                    help="concurrent clients for the write paths and their baselines (default 2, env "
                         "LEADBOOST_BENCH_CLIENTS); the hot-item contention runs twice as many too")
    group.addoption("--growth-sizes", default=os.environ.get("LEADBOOST_GROWTH_SIZES", "1e3,1e4"),
                    help="rows per grown table in the growth suite, comma-separated (default 1e3,1e4, env "
                         "LEADBOOST_GROWTH_SIZES; the full suite: 1e3,1e4,1e5,1e6)")
    group.addoption("--pgbench-seconds", type=float,
                    default=float(os.environ.get("LEADBOOST_PGBENCH_SECONDS", "2")),
                    help="length of one pgbench run (default 2 s, env LEADBOOST_PGBENCH_SECONDS)")
    group.addoption("--pgbench-rounds", type=int, default=int(os.environ.get("LEADBOOST_PGBENCH_ROUNDS", "5")),
                    help="paired rounds per pgbench-driven path (default 5, env LEADBOOST_PGBENCH_ROUNDS)")


def _scale(config: pytest.Config) -> int:
    text = config.getoption("bench_scale")
    try:
        events = int(float(text))
    except ValueError:
        raise pytest.UsageError(f"--bench-scale: expected a number of events such as 1e5, got {text!r}") \
            from None
    if events < 20_000:
        raise pytest.UsageError(
            f"--bench-scale: at least 2e4 events (the probe streams alone hold 11 100), got {text}")
    return events


@dataclass
class BenchDatabase:
    """The session's benchmark database: its conninfo, what was loaded, samples to draw parameters from."""

    dsn: str
    dataset: Dataset
    probe_positions: list[int]  # global positions of the probe tenant's events (for primary-key reads)
    probe_tenant_streams: list[str]  # some of the probe tenant's streams
    last_position: int

    def connect(self, tenant: uuid.UUID | None = None) -> psycopg.Connection:
        """A connection as a service makes it: role leadboost_app bound to ``tenant`` (row-level security and
        the functions' tenant checks apply); ``tenant=None``: the owner, as a projector or operator."""
        conn = psycopg.connect(self.dsn, autocommit=True)
        # Rows arrive as jsonb text, not Python objects: what is measured is the server and the protocol, not
        # Python's json module (which costs more than the read itself for a 100-event stream).
        conn.adapters.register_loader("jsonb", TextLoader)
        if tenant is not None:
            conn.execute("SET ROLE leadboost_app")
            conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))
        return conn


@pytest.fixture(scope="session")
def bench_db(leadboost_server, leadboost_template, pytestconfig) -> Iterator[BenchDatabase]:
    """The dataset (``--bench-scale`` events) and the baselines' tables, loaded once for the whole session."""
    shape = DatasetShape(events=_scale(pytestconfig))
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            dataset = load_dataset(conn, shape)
            create_baseline_tables(conn, [(dataset.probe_tenant, sku) for sku in HOT_SKUS])
            positions = [row[0] for row in conn.execute(
                "SELECT global_position FROM events.event_store WHERE tenant_id = %s"
                " ORDER BY random() LIMIT 2000", (dataset.probe_tenant,))]
            streams = [row[0] for row in conn.execute(
                "SELECT DISTINCT stream_id FROM events.event_store WHERE tenant_id = %s LIMIT 500",
                (dataset.probe_tenant,))]
            last = conn.execute("SELECT max(global_position) FROM events.event_store").fetchone()[0]
        pytestconfig.stash[_RUN_INFO] = {
            "server_version_num": leadboost_server.version, "backend": leadboost_server.backend,
            "clients": pytestconfig.getoption("bench_clients"),
            "dataset": {"events": dataset.event_count, "streams": dataset.stream_count,
                        "tenants": len(dataset.tenant_ids), "snapshots": dataset.snapshot_count,
                        "ledger_entries": dataset.ledger_entries, "inventory_items": dataset.inventory_items,
                        "request_keys": dataset.request_keys, "load_seconds": dataset.load_seconds}}
        yield BenchDatabase(dsn, dataset, positions, streams, last)


@pytest.fixture(scope="session")
def bench_clients(pytestconfig) -> int:
    return pytestconfig.getoption("bench_clients")


@pytest.fixture
def app_conn(bench_db) -> Iterator[psycopg.Connection]:
    """leadboost_app bound to the probe tenant (the largest)."""
    with bench_db.connect(bench_db.dataset.probe_tenant) as conn:
        yield conn


@pytest.fixture
def owner_conn(bench_db) -> Iterator[psycopg.Connection]:
    with bench_db.connect() as conn:
        yield conn


@pytest.fixture
def client_pool(bench_db) -> Iterator[Callable[[list[uuid.UUID | None]], ClientPool]]:
    """``client_pool(tenants)``: one connection per entry, leadboost_app bound to that tenant (repeat a tenant
    for several clients of it; None: the owner), closed after the test."""
    pools: list[ClientPool] = []

    def make(tenants: list[uuid.UUID | None]) -> ClientPool:
        pools.append(ClientPool([bench_db.connect(tenant) for tenant in tenants]))
        return pools[-1]

    yield make
    for pool in pools:
        pool.close()


@pytest.fixture
def measure(benchmark) -> Measure:
    return Measure(benchmark)


@pytest.fixture
def pk_select(app_conn, bench_db) -> Paired:
    """The read baseline to pair with reads: an event of the probe tenant by primary key, as leadboost_app."""
    positions = itertools.cycle(bench_db.probe_positions)
    statement = READS["event_by_position"].sql
    return Paired("pk_select", lambda: app_conn.execute(statement, {"position": next(positions)}).fetchall())


def pytest_benchmark_update_json(config: pytest.Config, benchmarks, output_json: dict) -> None:
    """The server and dataset the run measured, for the report (figures mean nothing without them)."""
    output_json["leadboost"] = {"scale": config.getoption("bench_scale"), **config.stash.get(_RUN_INFO, {})}


BENCH_LOGIN = "leadboost_bench_app"


@pytest.fixture(scope="session")
def bench_login(leadboost_server, pytestconfig) -> str:
    """A login role in leadboost_app for pgbench (which cannot SET ROLE before its script), as a service's own
    login role would be. Roles are cluster-wide: made once, kept."""
    pytestconfig.stash.setdefault(_RUN_INFO, {"server_version_num": leadboost_server.version,
                                              "backend": leadboost_server.backend})
    with psycopg.connect(leadboost_server.admin_dsn, autocommit=True) as admin:
        admin.execute(f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{BENCH_LOGIN}') THEN
                CREATE ROLE {BENCH_LOGIN} LOGIN IN ROLE leadboost_app;
            END IF; END $$""")
    return BENCH_LOGIN


@pytest.fixture(scope="session")
def owner_login(leadboost_server) -> str:
    """The role the server's conninfo logs in as (owner of the schema, superuser on the owned backends)."""
    return conninfo_to_dict(leadboost_server.conninfo).get("user") or "postgres"


@pytest.fixture(scope="session")
def pgbench_timing(pytestconfig) -> tuple[int, float]:
    """(paired rounds, seconds per run) of the pgbench-driven paths."""
    return pytestconfig.getoption("pgbench_rounds"), pytestconfig.getoption("pgbench_seconds")


"""Growth suite: one tenant's operator reads as the tables around it grow from 10^3 to 10^6 rows.

The probe tenant's data stays the same (leadboost_schema.bench.growth); other tenants' rows are added between
sizes. Each read is measured by pgbench at every size, alternating with a primary-key read of the probe
tenant's events (the reference that cancels the machine's load between sizes, minutes apart). A read that costs
what the tenant holds stays flat: the report's ratio of a size to the first (10^4 when measured, else the
smallest) is ≥ 0.5 — within 2× — and ``--growth-svg`` draws the log-log chart. Default sizes 10^3 and 10^4
(a CI-sized run); ``--growth-sizes=1e3,1e4,1e5,1e6`` (env LEADBOOST_GROWTH_SIZES) is the full suite.
"""
from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from server_figures import record_server_rounds

from leadboost_schema.bench.growth import Growth
from leadboost_schema.bench.pgbench import Pgbench, Script
from leadboost_schema.catalog.hot_queries import EVENT_COLUMNS
from leadboost_schema.databases.clones import fresh_database

pytestmark = pytest.mark.benchmark(group="growth (pgbench)")

# read → (runs as the service role bound to the tenant?, pgbench script with {tenant}). The cleanup is rolled
# back: every round deletes the same snapshots.
READS: dict[str, tuple[bool, str]] = {
    "active_sagas": (True, "SELECT * FROM sys.active_sagas WHERE tenant_id = '{tenant}';"),
    "tenant_stream_summary": (True, "SELECT * FROM events.stream_summary WHERE tenant_id = '{tenant}';"),
    "stream_read_10": (True, f"SELECT {EVENT_COLUMNS} FROM events.event_store"
                             " WHERE tenant_id = '{tenant}' AND stream_id = 'probe-7' ORDER BY version;"),
    "validate_migrated_data": (False, "SELECT * FROM migration.validate_migrated_data('{tenant}');"),
    "cleanup_old_snapshots": (False, "BEGIN;\nSELECT events.cleanup_old_snapshots(3, '{tenant}');\nROLLBACK;"),
}
REFERENCE = "SELECT global_position FROM events.event_store WHERE tenant_id = '{tenant}' AND stream_id = 'probe-3'" \
            " AND version = 1 + :i;"


def _sizes(config: pytest.Config) -> list[int]:
    text = config.getoption("growth_sizes")
    try:
        sizes = sorted({int(float(part)) for part in text.split(",") if part.strip()})
    except ValueError:
        raise pytest.UsageError(f"--growth-sizes: expected numbers such as 1e3,1e4, got {text!r}") from None
    if not sizes or sizes[0] < 1_000:
        raise pytest.UsageError(f"--growth-sizes: at least one size, each ≥ 1e3, got {text!r}")
    return sizes


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "size" in metafunc.fixturenames:
        sizes = _sizes(metafunc.config)
        cases = [(size, read) for size in sizes for read in READS]  # grow once per size, in order
        metafunc.parametrize(("size", "read"), cases, ids=[f"{read}-{size:.0e}" for size, read in cases])


@pytest.fixture(scope="module")
def grown(leadboost_server, leadboost_template, tmp_path_factory) -> Iterator[tuple[Growth, Pgbench]]:
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            growth = Growth(conn)
            growth.load_probe()
            yield growth, Pgbench(leadboost_server.bindir, dsn, tmp_path_factory.mktemp("growth"))


def _label(size: int) -> str:
    return f"{size:.0e}".replace("+0", "").replace("+", "")


def test_growth(benchmark, grown, request, bench_login, owner_login, pgbench_timing, size, read):
    growth, pgbench = grown
    growth.grow_to(size)
    tenant = str(growth.probe_tenant)
    as_app, sql = READS[read]
    login = bench_login if as_app else owner_login
    reference = Script("reference", "\\set i random(0, 9)\n" + REFERENCE.format(tenant=tenant), bench_login,
                       tenant, 1)
    path = Script(read, sql.format(tenant=tenant), login, tenant if as_app else None, 1)
    rounds, seconds = pgbench_timing
    ref, measured = pgbench.paired_rounds(reference, path, max(3, rounds // 2), max(1.0, seconds / 2))
    sizes = _sizes(request.config)
    first = 10_000 if 10_000 in sizes else sizes[0]
    record_server_rounds(
        benchmark, f"growth_{read}_{_label(size)}", measured,
        baseline=None if size == first else f"growth_{read}_{_label(first)}",
        target=0.5 if size > first else None, read=read, rows=size, normaliser_rounds=ref,
        load_seconds=dict(growth.seconds))

"""Folding a stream whose every event adds one large key (issue 17.5): events.replay_stream at 16, 32 and 64
events of 200 kB each. The fold is "each key's last write" in one pass, so the time should roughly double with the
length (it was quadratic: applying events.apply_event event by event copied the whole state every time); each
length is paired with the previous one in ``extra_info`` (ratio), with the backend's peak resident memory (VmHWM,
a fresh session per round, local server only). A stream whose state would pass 16 MiB is refused (LB608) at once.

Compare with release 1.0.0: ``LEADBOOST_SCHEMA_DIR=<1.0.0 schema/> pytest benchmarks/test_fold_growth.py -p no:xdist``.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.testing.factories import make_tenant

pytestmark = pytest.mark.benchmark(group="fold growth")

LENGTHS = [16, 32, 64]
VALUE_BYTES = 200_000


def _peak_mib(pid: int) -> float | None:
    status = Path(f"/proc/{pid}/status")
    if not status.exists():  # a server elsewhere (dsn, docker)
        return None
    line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


@pytest.fixture(scope="module")
def grown_streams(leadboost_server, leadboost_template) -> Iterator[tuple[str, uuid.UUID]]:
    """A database with one stream per length; every event adds a key holding VALUE_BYTES of text."""
    with fresh_database(leadboost_server, leadboost_template) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        tenant = make_tenant(conn)
        for n in [*LENGTHS, 128]:
            conn.execute("SELECT events.append_event(%s, %s, 'BENCH', 'Grown', jsonb_build_object('k' || v,"
                         " repeat(md5(v::text), %s / 32)), v - 1) FROM generate_series(1, %s) AS v",
                         (tenant, f"grown-{n}", VALUE_BYTES, n))
        yield dsn, tenant


def _replay(dsn: str, tenant: uuid.UUID, stream: str, peaks: list[float | None]) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        try:
            conn.execute("SELECT version FROM events.replay_stream(%s, %s)", (tenant, stream)).fetchall()
            outcome = "ok"
        except psycopg.Error as error:
            outcome = error.sqlstate or "error"
        peaks.append(_peak_mib(conn.info.backend_pid))
        return outcome


@pytest.mark.parametrize("length", [*LENGTHS, 128])
def test_fold_of_a_growing_state(benchmark, grown_streams, length: int) -> None:
    dsn, tenant = grown_streams
    peaks: list[float | None] = []
    outcome = benchmark.pedantic(_replay, args=(dsn, tenant, f"grown-{length}", peaks), rounds=3, iterations=1)
    benchmark.extra_info.update({"events": length, "value_bytes": VALUE_BYTES, "outcome": outcome,
                                 "peak_mib": max((p for p in peaks if p is not None), default=None)})
    # 128 events of 200 kB pass the 16 MiB bound: that read is refused, the shorter ones fold.
    assert outcome == ("LB608" if length * VALUE_BYTES > 16 * 1024 * 1024 else "ok")

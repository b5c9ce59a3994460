"""Rehydration at 10^2, 10^3 and 10^4 events per stream: with snapshots (events.rehydrate: the latest
snapshot, 50 events behind the head, plus those 50 events) the cost must stay flat — each length is divided by
the 10^2 one, target ≥ 0.5 (within 2×); without (events.replay_stream: every event folded) it grows with the
stream."""
from __future__ import annotations

import pytest

from leadboost_schema.bench.measure import Paired
from leadboost_schema.catalog.hot_queries import CALLS

pytestmark = pytest.mark.benchmark(group="rehydration")

LENGTHS = [100, 1_000, 10_000]


def _fold(conn, bench_db, call: str, length: int):
    params = {"tenant": bench_db.dataset.probe_tenant, "stream": bench_db.dataset.probe_streams[length]}
    statement = CALLS[call].sql
    return lambda: conn.execute(statement, params).fetchall()


@pytest.mark.parametrize("length", LENGTHS)
def test_rehydrate_with_snapshots(measure, app_conn, bench_db, pk_select, length):
    """Each length paired with the shortest (flatness: target ≥ 0.5); the shortest with the primary-key
    SELECT. Runs past PL/pgSQL's fifth call, where its generic plans take over."""
    if length == LENGTHS[0]:
        baseline, target, also = pk_select, None, ()
    else:
        baseline, target, also = Paired("rehydrate_100", _fold(app_conn, bench_db, "rehydrate", 100)), 0.5, \
            ("pk_select",)
    measure.calls(f"rehydrate_{length}", _fold(app_conn, bench_db, "rehydrate", length), rounds=200,
                  baseline=baseline, target=target, also=also)


@pytest.mark.parametrize("length", LENGTHS)
def test_replay_without_snapshots(measure, app_conn, bench_db, pk_select, length):
    measure.calls(f"replay_{length}", _fold(app_conn, bench_db, "replay_stream", length),
                  rounds={100: 200, 1_000: 30, 10_000: 7}[length], baseline=pk_select,
                  also=(f"rehydrate_{length}",))

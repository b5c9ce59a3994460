"""event_store reads, one client, each paired with the primary-key SELECT: a stream in version order (whole,
and a page after a version), a stream's latest event, a stream type over a time window (the document's index
``(stream_type, occurred_at DESC)``), a projector's catch-up by global position, stream_summary, balances."""
from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from leadboost_schema.bench.data import STREAM_TYPES, YEAR_MS
from leadboost_schema.catalog.hot_queries import READS

pytestmark = pytest.mark.benchmark(group="event_store reads")


def _read(conn, name: str, params_of):
    statement = READS[name].sql
    return lambda: conn.execute(statement, params_of()).fetchall()


@pytest.mark.parametrize("length", [100, 1_000])
def test_stream_read_whole(measure, pk_select, app_conn, bench_db, length):
    params = {"tenant": bench_db.dataset.probe_tenant, "stream": bench_db.dataset.probe_streams[length]}
    measure.calls(f"stream_read_{length}", _read(app_conn, "stream_read", lambda: params),
                  rounds=300 if length == 100 else 50, baseline=pk_select,
                  target=0.2 if length == 100 else None)


def test_stream_page_after_version(measure, pk_select, app_conn, bench_db):
    """100 events after a random version of the 10^4-event stream."""
    rng = random.Random(1)
    base = {"tenant": bench_db.dataset.probe_tenant, "stream": bench_db.dataset.probe_streams[10_000],
            "limit": 100}
    measure.calls("stream_page_100", _read(app_conn, "stream_page",
                                           lambda: {**base, "after_version": rng.randrange(9_900)}),
                  rounds=300, baseline=pk_select)


def test_latest_event(measure, pk_select, app_conn, bench_db):
    streams = itertools.cycle(bench_db.probe_tenant_streams)
    tenant = bench_db.dataset.probe_tenant
    measure.calls("latest_event",
                  _read(app_conn, "latest_event", lambda: {"tenant": tenant, "stream": next(streams)}),
                  rounds=1000, baseline=pk_select)


def _window(rng: random.Random) -> dict:
    """100 newest events of a random stream type in a random week of the year the data spans."""
    until = datetime.now(UTC) - timedelta(milliseconds=rng.randrange(YEAR_MS))
    return {"stream_type": rng.choice(list(STREAM_TYPES)), "since": until - timedelta(days=7), "until": until,
            "limit": 100}


def test_stream_type_over_time(measure, pk_select, owner_conn):
    """All tenants (an operator or analytics reader): the index (stream_type, occurred_at DESC) answers it."""
    rng = random.Random(2)
    measure.calls("stream_type_window", _read(owner_conn, "stream_type_window", lambda: _window(rng)),
                  rounds=300, baseline=pk_select)


def test_stream_type_over_time_one_tenant(measure, pk_select, app_conn):
    """The same statement as leadboost_app bound to one tenant: row-level security adds tenant_id = <bound>,
    which the index cannot seek on, so it walks the type's window and filters other tenants' events out."""
    rng = random.Random(2)
    measure.calls("stream_type_window_tenant", _read(app_conn, "stream_type_window", lambda: _window(rng)),
                  rounds=200, baseline=pk_select)


def test_catch_up(measure, pk_select, owner_conn, bench_db):
    """A projector reading the next 500 events of the whole log after a random checkpoint."""
    rng = random.Random(3)
    last = bench_db.last_position
    measure.calls("catch_up_500", _read(owner_conn, "catch_up",
                                        lambda: {"position": rng.randrange(last - 500), "limit": 500}),
                  rounds=200, baseline=pk_select)


def test_stream_summary_one_stream(measure, pk_select, app_conn, bench_db):
    streams = itertools.cycle(bench_db.probe_tenant_streams)
    tenant = bench_db.dataset.probe_tenant
    measure.calls("stream_summary", _read(app_conn, "stream_summary",
                                          lambda: {"tenant": tenant, "stream": next(streams)}),
                  rounds=500, baseline=pk_select)


def test_stream_summary_of_a_tenant(measure, pk_select, bench_db):
    """Every stream of a median tenant (a dashboard's list)."""
    tenant = bench_db.dataset.tenant_ids[len(bench_db.dataset.tenant_ids) // 2]
    with bench_db.connect(tenant) as conn:
        measure.calls("tenant_stream_summary",
                      _read(conn, "tenant_stream_summary", lambda: {"tenant": tenant}),
                      rounds=200, baseline=pk_select)


def test_account_balances_of_a_tenant(measure, pk_select, bench_db):
    tenant = bench_db.dataset.tenant_ids[len(bench_db.dataset.tenant_ids) // 2]
    with bench_db.connect(tenant) as conn:
        measure.calls("account_balances", _read(conn, "account_balances", lambda: {"tenant": tenant}),
                      rounds=300, baseline=pk_select)

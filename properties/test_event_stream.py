"""Snapshot equals replay: concurrent appends with expected versions, snapshots and cleanups of streams."""
from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from leadboost_schema.testing import strategies as lb
from leadboost_schema.testing.interleaving import Step
from properties.broken_variants import APPEND_WITHOUT_EXPECTED_VERSION_CHECK, install
from properties.hypothesis_settings import PROPERTY, find_counterexample
from properties.models.event_stream import Stream
from properties.transactions import assert_errors_among, committed, make_scripts, scenario

REAL = "events"
BROKEN = "broken"
STREAMS = ("account-1", "account-2")
stream = st.sampled_from(STREAMS)

operation = st.one_of(
    st.tuples(st.just("read"), stream),
    st.tuples(st.just("append"), stream, lb.make_event_payload(), st.sampled_from((0, 0, 0, -1))),
    st.tuples(st.just("append"), stream, lb.make_event_payload(), st.just(0)),
    st.tuples(st.just("snapshot"), stream),
    st.tuples(st.just("rehydrate"), stream),
)


def stream_steps(tenant: uuid.UUID, functions: str, seen: dict[tuple[str, str], int]):
    def step_of(session: str, op) -> Step:
        kind, name = op[0], op[1]
        if kind == "read":
            def read(conn):
                seen[session, name] = conn.execute(
                    "SELECT coalesce(max(version), 0) FROM events.event_store WHERE tenant_id = %s"
                    " AND stream_id = %s", (tenant, name)).fetchone()[0]
                return seen[session, name]
            return Step(f"read {name}", read)
        if kind == "append":
            _, _, payload, offset = op

            def append(conn):
                expected = seen.get((session, name), 0) + offset
                version = conn.execute(
                    f"SELECT {functions}.append_event(%s, %s, 'ACCOUNT', 'Changed', %s, %s)",
                    (tenant, name, Jsonb(payload), expected)).fetchone()[0]
                seen[session, name] = version
                return expected, version
            return Step(f"append {name} {payload}{' stale' if offset else ''}", append)
        if kind == "snapshot":
            return Step(f"snapshot {name}", lambda conn: conn.execute(
                "SELECT version, state FROM events.create_snapshot(%s, %s)", (tenant, name)).fetchone())
        if kind == "rehydrate":
            return Step(f"rehydrate {name}", lambda conn: conn.execute(
                "SELECT r.version, r.state, r.state = p.state FROM events.rehydrate(%s, %s) AS r,"
                " events.replay_stream(%s, %s) AS p", (tenant, name, tenant, name)).fetchone())
        return Step("cleanup snapshots", lambda conn: conn.execute(
            "SELECT events.cleanup_old_snapshots()") and None)
    return step_of


def assert_rehydration_equals_replay(conn, tenant, streams: dict[str, Stream], trace, when: str) -> None:
    for name, model in streams.items():
        rows = conn.execute(
            "SELECT v, (events.rehydrate(%s, %s, v)).state, (events.replay_stream(%s, %s, v)).state"
            " FROM generate_series(1, %s) AS v ORDER BY v", (tenant, name, tenant, name, model.version)).fetchall()
        for version, rehydrated, replayed in rows:
            assert rehydrated == replayed == model.state(version), (
                f"{when}: {name} at version {version}: rehydrated {rehydrated}, replayed {replayed}, "
                f"model {model.state(version)}\n{trace}")


def check_snapshot_equals_replay(scheduler, conn, make_tenant, data, functions: str) -> None:
    tenant = make_tenant(conn)
    scripts = data.draw(make_scripts(operation, tuple(scheduler.names), max_transactions=2,
                                     alone=st.just(("cleanup", ""))), label="scripts")
    trace = scheduler.run(scenario(scripts, stream_steps(tenant, functions, {})), data)
    assert_errors_among(trace, {"LB601", "LB603"})

    streams = {name: Stream() for name in STREAMS}
    for outcome in committed(trace, scripts):
        for op, event in zip(outcome.transaction.ops, outcome.events, strict=True):
            where = f"{outcome.session}.{event.step}"
            if op[0] == "append":
                expected, version = event.result
                model_version = streams[op[1]].append(op[2], expected)
                assert version == model_version, (
                    f"{where} appended version {version} expecting {expected}; the model says "
                    f"{'the expected version is stale' if model_version is None else model_version}\n{trace}")
            elif op[0] in ("snapshot", "rehydrate"):
                version, state = event.result[:2]
                assert state == streams[op[1]].state(version), (
                    f"{where} gave {state} at version {version}, the replay {streams[op[1]].state(version)}"
                    f"\n{trace}")
                assert op[0] == "snapshot" or event.result[2], f"{where} differs from replay_stream\n{trace}"
    for name, model in streams.items():
        versions = [(v, payload) for v, payload in conn.execute(
            "SELECT version, payload FROM events.event_store WHERE tenant_id = %s AND stream_id = %s"
            " ORDER BY global_position", (tenant, name))]
        assert versions == list(enumerate(model.events, start=1)), (
            f"{name} holds {versions}, the model {model.events}\n{trace}")
    assert_rehydration_equals_replay(conn, tenant, streams, trace, "after the run")
    conn.execute("SELECT events.cleanup_old_snapshots()")
    assert_rehydration_equals_replay(conn, tenant, streams, trace, "after cleanup_old_snapshots()")
    kept = conn.execute("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM events.snapshots"
                        " WHERE tenant_id = %s GROUP BY stream_id) AS per_stream", (tenant,)).fetchone()[0]
    assert kept <= 3, f"cleanup kept {kept} snapshots of a stream\n{trace}"


@PROPERTY
@given(data=st.data())
def test_rehydration_equals_replay_under_concurrent_appends(two_sessions, leadboost_conn, make_tenant, data):
    """Invariant (snapshot equals replay): for any interleaving of appends (with the version the session last
    saw, or a stale one), snapshots, rehydrations and snapshot cleanups on two streams, replayed in commit order
    through the model: of appends with the same expected version exactly one wins; each stream's versions are
    1..n without gaps and hold the model's events; every snapshot and every rehydration at every version
    equals the full replay, before and after cleanup_old_snapshots(), which keeps at most 3 per stream."""
    check_snapshot_equals_replay(two_sessions, leadboost_conn, make_tenant, data, REAL)


def test_an_append_without_the_expected_version_check_is_caught(two_sessions, leadboost_conn, make_tenant):
    """The property can fail: an append that ignores the expected version lets a stale writer win too;
    Hypothesis finds and shrinks it to one stale append."""
    install(leadboost_conn, APPEND_WITHOUT_EXPECTED_VERSION_CHECK)

    find_counterexample(
        lambda data: check_snapshot_equals_replay(two_sessions, leadboost_conn, make_tenant, data, BROKEN),
        match="expecting .*; the model says the expected version is stale")

"""The event log's version refusals say the versions exactly (schema/README.md, error codes, LB601): a direct
INSERT is told ``stream <s> is at version <c>: the next event must be version <c+1>, not <v>``, events.append_event
``wrong expected version for stream <s>: expected <e>, stream is at <c>`` — where a stream with no event is at
version 0 — and, when a concurrent append took the version, ``… another append won version <e+1>``. And the
version trigger's position rule (LB609): a chosen global_position is refused exactly when it is above the last
one the sequence handed out — 0 before the first append — since those are the positions it would hand out next.
Found by the mutation run: the versions of these messages and the sequence's starting point moved by one went
unnoticed (only the next version of a stream at 2, and the SQLSTATEs, were checked)."""
from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from leadboost_schema.testing.lock_waits import wait_until_blocked

STREAM = "acct-7"
APPEND = "SELECT events.append_event(%s, %s, 'ACCOUNT', 'Credited', %s, %s, '{}', %s)"
DIRECT = ("INSERT INTO events.event_store (tenant_id, stream_id, stream_type, version, event_type, payload)"
          " VALUES (%s, %s, 'ACCOUNT', %s, 'Credited', '{}')")
CHOSEN = ("INSERT INTO events.event_store (global_position, tenant_id, stream_id, stream_type, version, event_type,"
          " payload) OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, 'ACCOUNT', 1, 'Opened', '{}')")


def _stream_at(conn: psycopg.Connection, tenant: uuid.UUID, version: int) -> None:
    for expected in range(version):
        conn.execute(APPEND, (tenant, STREAM, f'{{"n": {expected}}}', expected, None))


def _refusal(conn: psycopg.Connection, statement: str, params: tuple) -> psycopg.Error | None:
    try:
        with conn.transaction():
            conn.execute(statement, params)
    except psycopg.Error as refused:
        return refused
    return None


@pytest.mark.parametrize(("at", "version"), [(0, 2), (0, 0), (2, 5), (2, 2), (3, 1)])
def test_a_direct_insert_is_told_the_streams_version_and_the_next_one(leadboost_conn, make_tenant, at: int,
                                                                       version: int):
    """A stream with no event is at version 0 and its next event is version 1."""
    tenant = make_tenant(leadboost_conn)
    _stream_at(leadboost_conn, tenant, at)
    refused = _refusal(leadboost_conn, DIRECT, (tenant, STREAM, version))
    assert refused is not None and refused.sqlstate == "LB601", refused
    assert refused.diag.message_primary == (
        f"stream {STREAM} is at version {at}: the next event must be version {at + 1}, not {version}")


@pytest.mark.parametrize(("at", "expected"), [(0, 1), (0, 3), (2, 0), (2, 5)])
def test_a_wrong_expected_version_is_told_the_streams_version(leadboost_conn, make_tenant, at: int, expected: int):
    tenant = make_tenant(leadboost_conn)
    _stream_at(leadboost_conn, tenant, at)
    refused = _refusal(leadboost_conn, APPEND, (tenant, STREAM, '{"n": 99}', expected, None))
    assert refused is not None and refused.sqlstate == "LB601", refused
    assert refused.diag.message_primary == (
        f"wrong expected version for stream {STREAM}: expected {expected}, stream is at {at}")


def _race(dsn: str, tenant: uuid.UUID, at: int, first_id: uuid.UUID | None, second_id: uuid.UUID | None,
          second_payload: str) -> dict[str, object]:
    """Session 1 appends at ``at`` and keeps its transaction open; session 2 appends at the same expected version,
    is seen waiting on session 1, which then commits. Session 2's answer: its version or its refusal."""
    outcome: dict[str, object] = {}
    with psycopg.connect(dsn, autocommit=True) as observer, psycopg.connect(dsn) as first, \
            psycopg.connect(dsn, autocommit=True) as second:
        assert first.execute(APPEND, (tenant, STREAM, '{"n": "first"}', at, first_id)).fetchone()[0] == at + 1

        def append() -> None:
            try:
                outcome["version"] = second.execute(APPEND, (tenant, STREAM, second_payload, at,
                                                             second_id)).fetchone()[0]
            except psycopg.Error as error:
                outcome["error"] = (error.sqlstate, error.diag.message_primary)

        worker = threading.Thread(target=append)
        worker.start()
        try:
            wait_until_blocked(observer, second.info.backend_pid)
        finally:
            first.commit()
            worker.join(timeout=30)
    return outcome


@pytest.mark.parametrize("event_ids", ["none", "different"])
@pytest.mark.parametrize("at", [0, 2])
def test_the_loser_of_a_race_is_told_which_version_the_winner_took(leadboost_dsn, make_tenant, at: int,
                                                                    event_ids: str):
    """Two appends at one expected version, the second made while the first is uncommitted: the second waits, then
    gets LB601 naming the version the first took — whether the appends carry no event id or two different ones
    (then the second's own id is looked for and not found: it is not a retry of anything stored)."""
    with psycopg.connect(leadboost_dsn, autocommit=True) as setup:
        tenant = make_tenant(setup)
        _stream_at(setup, tenant, at)
    ids = (None, None) if event_ids == "none" else (uuid.uuid4(), uuid.uuid4())
    outcome = _race(leadboost_dsn, tenant, at, ids[0], ids[1], '{"n": "second"}')
    assert outcome == {"error": (
        "LB601", f"wrong expected version for stream {STREAM}: expected {at}, another append won version {at + 1}")}


@pytest.mark.parametrize("shared_elsewhere", [False, True], ids=["own id", "id also used by another tenant"])
def test_a_retry_racing_its_original_gets_the_originals_version(leadboost_dsn, make_tenant, shared_elsewhere: bool):
    """Invariant (README, idempotency of append_event with p_event_id): the same append again — here made while
    the original is uncommitted, so it waits for it — returns the original's version. Event ids are per tenant:
    another tenant's event with the same id (stored first) changes nothing."""
    event_id = uuid.uuid4()
    with psycopg.connect(leadboost_dsn, autocommit=True) as setup:
        tenant, other = make_tenant(setup), make_tenant(setup)
        if shared_elsewhere:
            setup.execute(APPEND, (other, STREAM, '{"n": "elsewhere"}', 0, event_id))
        _stream_at(setup, tenant, 1)
    outcome = _race(leadboost_dsn, tenant, 1, event_id, event_id, '{"n": "first"}')
    assert outcome == {"version": 2}


def test_a_chosen_position_is_refused_exactly_above_the_sequences_last_value(leadboost_conn, make_tenant):
    """LB609 exactly for the positions the sequence would hand out next: above its last value, which is 0 before
    any append (position 1 is refused on a new log, 0 is not one it will hand out). Later the boundary is the last
    position handed out, also one left unused by a rolled-back append."""
    conn = leadboost_conn
    tenant = make_tenant(conn)
    last = conn.execute("SELECT pg_sequence_last_value('events.event_store_global_position_seq')").fetchone()[0]
    assert last is None, "this test needs a log no append has touched"
    answers = {}
    for position in (2, 1, 0):
        refused = _refusal(conn, CHOSEN, (position, tenant, f"chosen-{position}"))
        answers[position] = refused and refused.sqlstate
    assert answers == {2: "LB609", 1: "LB609", 0: None}
    _stream_at(conn, tenant, 2)
    with conn.transaction(force_rollback=True):
        conn.execute(APPEND, (tenant, STREAM, '{"n": "rolled back"}', 2, None))
    gap = conn.execute("SELECT pg_sequence_last_value('events.event_store_global_position_seq')").fetchone()[0]
    answers = {}
    for position in (gap + 2, gap + 1, gap):
        refused = _refusal(conn, CHOSEN, (position, tenant, f"chosen-{position}"))
        answers[position - gap] = refused and refused.sqlstate
    assert answers == {2: "LB609", 1: "LB609", 0: None}

"""A snapshot row, whoever inserts it, is checked against the stream at its version (events.check_snapshot_state):
at a version the stream has an event for, its state must be the replay there (LB606; a NULL state is filled in
with it); at a version with no event — beyond the head, or below 0 — the foreign key refuses it (23503), whatever
the state says (a NULL one is not filled in: NOT NULL, 23502), and version 0 (no event yet) is refused too. Nothing is stored by a refusal. Found by the mutation
run: the trigger taking a negative version for the start of the stream (so a state was compared instead of the
row being left to the foreign key) went unnoticed."""
from __future__ import annotations

import json
import uuid

import psycopg
import pytest

SNAPSHOT = "INSERT INTO events.snapshots (tenant_id, stream_id, version, state) VALUES (%s, 'acct-1', %s, %s)"
REPLAY = {1: {"a": 1}, 2: {"a": 1, "b": 2}, 3: {"b": 2}}


@pytest.fixture
def tenant(leadboost_conn, make_tenant) -> uuid.UUID:
    """A stream at version 3 whose state is, by version, REPLAY."""
    tenant = make_tenant(leadboost_conn)
    for expected, payload in enumerate(['{"a": 1}', '{"b": 2}', '{"a": null}']):
        leadboost_conn.execute("SELECT events.append_event(%s, 'acct-1', 'ACCOUNT', 'Changed', %s, %s)",
                               (tenant, payload, expected))
    return tenant


def _insert(conn: psycopg.Connection, tenant: uuid.UUID, version: int, state: dict | None) -> object:
    """The stored state, or the SQLSTATE of the refusal (nothing kept either way)."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(SNAPSHOT, (tenant, version, None if state is None else json.dumps(state)))
            return conn.execute("SELECT state FROM events.snapshots WHERE tenant_id = %s AND version = %s",
                                (tenant, version)).fetchone()[0]
    except psycopg.Error as refused:
        return refused.sqlstate


@pytest.mark.parametrize("version", [1, 2, 3])
def test_a_snapshot_at_a_version_of_the_stream_must_be_its_replay(leadboost_conn, tenant, version: int):
    assert _insert(leadboost_conn, tenant, version, REPLAY[version]) == REPLAY[version]
    assert _insert(leadboost_conn, tenant, version, None) == REPLAY[version]
    assert _insert(leadboost_conn, tenant, version, {"a": 99}) == "LB606"
    assert _insert(leadboost_conn, tenant, version, {}) == "LB606"


@pytest.mark.parametrize("version", [4, 5, -1, -2, -9223372036854775807])
@pytest.mark.parametrize("state", [None, {}, {"a": 1}, {"b": 2}], ids=["null", "empty", "a", "b"])
def test_a_snapshot_at_a_version_with_no_event_is_left_to_the_foreign_key(leadboost_conn, tenant, version: int,
                                                                          state: dict | None):
    """A NULL state is not filled in there: the row reaches NOT NULL (23502) before the foreign key."""
    assert _insert(leadboost_conn, tenant, version, state) == ("23502" if state is None else "23503")


@pytest.mark.parametrize("state", [None, {}, {"a": 1}], ids=["null", "empty", "a"])
def test_a_snapshot_at_version_0_is_refused(leadboost_conn, tenant, state: dict | None):
    assert _insert(leadboost_conn, tenant, 0, state) in {"23502", "23503", "LB606"}
    assert leadboost_conn.execute("SELECT count(*) FROM events.snapshots").fetchone()[0] == 0

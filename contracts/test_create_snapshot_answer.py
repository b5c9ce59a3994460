"""events.create_snapshot returns the one snapshot it stored (or found) — the stream's state at the version asked
for, one row — whatever other snapshots exist: of the same stream at other versions, of the tenant's other
streams at that version, of another tenant's stream with the same id. Found by the mutation run: its answer read
without the version (every snapshot of the stream) went unnoticed (each test had one snapshot per stream)."""
from __future__ import annotations

import json

import pytest

APPEND = "SELECT events.append_event(%s, %s, 'ACCOUNT', 'Changed', %s, %s)"


def _stream(conn, tenant, stream: str, values: list[int]) -> None:
    for expected, value in enumerate(values):
        conn.execute(APPEND, (tenant, stream, json.dumps({stream: value}), expected))


@pytest.mark.parametrize("again", [False, True], ids=["new", "already taken"])
def test_create_snapshot_answers_exactly_the_snapshot_asked_for(leadboost_conn, make_tenant, again: bool):
    conn = leadboost_conn
    a, b = make_tenant(conn), make_tenant(conn)
    _stream(conn, a, "acct-1", [1, 2, 3, 4])
    _stream(conn, a, "acct-2", [5, 6, 7])
    _stream(conn, b, "acct-1", [8, 9, 10])
    for tenant, stream, version in ((a, "acct-1", 1), (a, "acct-1", 4), (a, "acct-2", 3), (b, "acct-1", 3)):
        conn.execute("SELECT events.create_snapshot(%s, %s, %s)", (tenant, stream, version))
    if again:
        conn.execute("SELECT events.create_snapshot(%s, 'acct-1', 3)", (a,))
    rows = conn.execute("SELECT version, state FROM events.create_snapshot(%s, 'acct-1', 3)", (a,)).fetchall()
    assert rows == [(3, {"acct-1": 3})]
    latest = conn.execute("SELECT version, state FROM events.create_snapshot(%s, 'acct-1')", (a,)).fetchall()
    assert latest == [(4, {"acct-1": 4})]

"""events.cleanup_old_snapshots keeps the latest p_keep snapshots of EACH stream of each tenant and deletes the rest
(returning how many) — for every tenant, or for p_only_tenant_id only, without touching another tenant's snapshots
even where they share a stream id and versions with the cleaned ones. Found by the mutation run: the per-tenant
cleanup ranking the wrong tenant's snapshots, and either cleanup matching deleted rows without their tenant, went
unnoticed (the tenants of the cleanup tests never shared a stream id and version)."""
from __future__ import annotations

import json

import pytest

APPEND = "SELECT events.append_event(%s, %s, 'ACCOUNT', 'Changed', %s, %s)"


def _snapshots(conn, tenant, stream: str, events: int, versions: list[int]) -> None:
    for expected in range(events):
        conn.execute(APPEND, (tenant, stream, json.dumps({"n": expected}), expected))
    for version in versions:
        conn.execute("SELECT events.create_snapshot(%s, %s, %s)", (tenant, stream, version))


def _kept(conn, tenant) -> dict[str, list[int]]:
    kept: dict[str, list[int]] = {}
    for stream, version in conn.execute("SELECT stream_id, version FROM events.snapshots WHERE tenant_id = %s"
                                        " ORDER BY stream_id, version", (tenant,)).fetchall():
        kept.setdefault(stream, []).append(version)
    return kept


@pytest.mark.parametrize("only", [False, True], ids=["every tenant", "one tenant"])
def test_cleanup_keeps_the_latest_snapshots_of_each_stream_of_its_tenant(leadboost_conn, make_tenant, only: bool):
    conn = leadboost_conn
    a, b = make_tenant(conn), make_tenant(conn)
    _snapshots(conn, a, "acct-1", 5, [1, 2, 3, 4, 5])
    _snapshots(conn, a, "acct-2", 3, [2, 3])
    _snapshots(conn, b, "acct-1", 6, [1, 2, 6])  # as many as kept: nothing of B's goes, whatever A shares with it
    removed = conn.execute("SELECT events.cleanup_old_snapshots(3, %s)", (a if only else None,)).fetchone()[0]
    assert removed == 2
    assert _kept(conn, a) == {"acct-1": [3, 4, 5], "acct-2": [2, 3]}
    assert _kept(conn, b) == {"acct-1": [1, 2, 6]}

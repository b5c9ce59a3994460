"""events.stream_summary describes each stream by its own rows only: its head, and its latest snapshot version —
NULL for a stream with no snapshot — whatever the tenant's other streams and another tenant's stream with the
same id hold (stream ids are per tenant). Found by the mutation run: the latest snapshot read without the stream,
or without the tenant, went unnoticed (the summary test had one stream of one tenant)."""
from __future__ import annotations

import json


def _stream(conn, tenant, stream: str, events: int, snapshots: list[int]) -> None:
    for expected in range(events):
        conn.execute("SELECT events.append_event(%s, %s, 'LEAD', 'LeadScored', %s, %s)",
                     (tenant, stream, json.dumps({"n": expected}), expected))
    for version in snapshots:
        conn.execute("SELECT events.create_snapshot(%s, %s, %s)", (tenant, stream, version))


def test_each_stream_is_summarised_from_its_own_events_and_snapshots(leadboost_conn, make_tenant):
    conn = leadboost_conn
    a, b = make_tenant(conn), make_tenant(conn)
    _stream(conn, a, "lead-1", 3, [2])
    _stream(conn, a, "lead-2", 6, [5])
    _stream(conn, a, "lead-3", 2, [])
    _stream(conn, b, "lead-1", 7, [4, 7])
    _stream(conn, b, "lead-3", 1, [1])
    rows = conn.execute("SELECT tenant_id, stream_id, current_version, event_count, latest_snapshot_version"
                        " FROM events.stream_summary ORDER BY tenant_id = %s DESC, stream_id", (a,)).fetchall()
    assert rows == [(a, "lead-1", 3, 3, 2), (a, "lead-2", 6, 6, 5), (a, "lead-3", 2, 2, None),
                    (b, "lead-1", 7, 7, 7), (b, "lead-3", 1, 1, 1)]

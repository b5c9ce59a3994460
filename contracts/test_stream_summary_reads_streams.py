"""Listing one tenant's streams (events.stream_summary) costs per stream, not per event (schema/006:
event_store_stream_first_idx, "lists a tenant's streams in time proportional to their number"). Found by the
mutation run: the partial index's predicate could name another version — the index then no longer serves the
view, which found each stream's first event by walking the tenant's whole (tenant, stream, version) key — with
every other test passing (the plan contracts accept that key too, and count rows, not the index pages walked).

Measured as the shared buffers EXPLAIN (ANALYZE, BUFFERS) reports for the whole statement, before and after the
tenant's streams grow by thousands of events each.
"""
from __future__ import annotations

STREAMS = 2
GROWTH = 3_000  # events appended to each stream between the two readings
PER_STREAM = 4  # buffers a stream may add: a deeper index on each lookup of its head and of its latest snapshot
SUMMARY = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM events.stream_summary WHERE tenant_id = %s"


def _buffers(conn, tenant) -> int:
    plan = conn.execute(SUMMARY, (tenant,)).fetchone()[0][0]["Plan"]
    return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]


def test_a_tenants_stream_list_costs_per_stream_not_per_event(leadboost_conn, make_tenant):
    """Rule: appending thousands of events to a tenant's streams adds at most a few buffers per stream to reading
    its stream summary — the list reads each stream's first event, head and latest snapshot by index, never pages
    of the events in between."""
    conn = leadboost_conn
    tenant, other = make_tenant(conn), make_tenant(conn)
    for owner in (tenant, other):
        for stream in range(STREAMS):
            conn.execute("SELECT events.append_event(%s, %s, 'LEAD', 'LeadScored', '{}', 0)", (owner, f"lead-{stream}"))
    conn.execute("ANALYZE events.event_store")
    before = _buffers(conn, tenant)
    for stream in range(STREAMS):  # as the owner (an ETL), straight into the log: appends in version order
        conn.execute("INSERT INTO events.event_store (tenant_id, stream_id, stream_type, version, event_type, payload)"
                     " SELECT %s, %s, 'LEAD', v, 'LeadScored', '{}' FROM generate_series(2, %s) AS v",
                     (tenant, f"lead-{stream}", GROWTH + 1))
    conn.execute("ANALYZE events.event_store")
    after = _buffers(conn, tenant)
    heads = conn.execute("SELECT stream_id, current_version FROM events.stream_summary WHERE tenant_id = %s"
                         " ORDER BY stream_id", (tenant,)).fetchall()
    assert heads == [(f"lead-{stream}", GROWTH + 1) for stream in range(STREAMS)]
    assert after - before <= PER_STREAM * STREAMS, f"{before} buffers before, {after} after {GROWTH} events a stream"

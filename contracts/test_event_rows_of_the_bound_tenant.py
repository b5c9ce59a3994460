"""After the source document's troubleshooting GRANT block, leadboost_app keeps INSERT on the event log and on
snapshots (the rows are checked by triggers: version, type, replayed state, tenant). Row-level security then lets
a bound session write the rows of its own tenant — and only those (schema/006: "Roles subject to RLS see and write
only rows of the tenant bound with app.tenant_id"). Found by the mutation run: the snapshots policy's WITH CHECK
could be inverted — refusing every snapshot of the session's own tenant — with every other test passing (the
attack tests only try another tenant's rows, which a trigger refuses first).
"""
from __future__ import annotations

import pytest
from psycopg.types.json import Jsonb

from contracts.test_document_queries import GRANT_APP, run
from leadboost_schema.testing.attempts import acting_as, attempt, rolled_back

STREAM = "account-1"
WRITES = {
    "an event": ("INSERT INTO events.event_store (tenant_id, stream_id, stream_type, version, event_type, payload)"
                 " VALUES (%s, %s, 'ACCOUNT', 3, 'Deposited', '{\"amount\": 5}')",
                 "SELECT count(*) FROM events.event_store WHERE tenant_id = %s AND stream_id = %s AND version = 3"),
    "a snapshot, state filled in": (
        "INSERT INTO events.snapshots (tenant_id, stream_id, version) VALUES (%s, %s, 2)",
        "SELECT count(*) FROM events.snapshots WHERE tenant_id = %s AND stream_id = %s AND version = 2"),
    "a snapshot, state given": (
        "INSERT INTO events.snapshots (tenant_id, stream_id, version, state) VALUES (%s, %s, 1, '{\"amount\": 1}')",
        "SELECT count(*) FROM events.snapshots WHERE tenant_id = %s AND stream_id = %s AND version = 1"),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_bound_session_writes_its_own_tenants_event_rows_and_no_other(leadboost_conn, make_tenant, write):
    """Rule: bound to tenant A, with the troubleshooting block's INSERT, a valid row of A's stream is stored; the
    same row for B's stream of the same id is refused with LB003 and nothing of B's changes."""
    conn = leadboost_conn
    a, b = make_tenant(conn), make_tenant(conn)
    for tenant in (a, b):
        for expected, amount in enumerate((1, 2)):
            conn.execute("SELECT events.append_event(%s, %s, 'ACCOUNT', 'Deposited', %s, %s)",
                         (tenant, STREAM, Jsonb({"amount": amount}), expected))
    statement, count = WRITES[write]
    with rolled_back(conn):
        run(conn, GRANT_APP)
        with acting_as(conn, a):
            own = attempt(conn, statement, (a, STREAM))
            stored = conn.execute(count, (a, STREAM)).fetchone()[0]
    with rolled_back(conn):
        run(conn, GRANT_APP)
        with acting_as(conn, a):
            other = attempt(conn, statement, (b, STREAM))
        kept = conn.execute(count, (b, STREAM)).fetchone()[0]
    assert own.error is None and stored == 1, str(own)
    assert other.sqlstate == "LB003" and kept == 0, str(other)

"""The row triggers that read other rows refuse a row of another tenant before reading anything
(iam.assert_row_tenant, called by events.event_store's append trigger): LB003 with a message that says which
case it is — an unbound session is told to bind first, a bound one which tenant it is bound to and which row's
tenant it tried to write. Found by the mutation run: dropping or inverting the unbound branch kept LB003 but
told an unbound session it was "bound to tenant <NULL>"."""
from __future__ import annotations

import uuid

import psycopg
import pytest

INSERT = ("INSERT INTO events.event_store (tenant_id, stream_id, stream_type, version, event_type, payload)"
          " VALUES (%s, 'lead-1', 'LEAD', 1, 'LeadScored', '{}')")


def _tenant(conn: psycopg.Connection, name: str) -> uuid.UUID:
    return conn.execute("INSERT INTO iam.tenants (name) VALUES (%s) RETURNING id", (name,)).fetchone()[0]


@pytest.mark.parametrize("bound", [False, True])
def test_a_row_of_another_tenant_is_refused_with_the_case_in_the_message(leadboost_conn, bound: bool):
    conn = leadboost_conn
    mine, theirs = _tenant(conn, f"mine-{uuid.uuid4().hex[:6]}"), _tenant(conn, f"theirs-{uuid.uuid4().hex[:6]}")
    # As a database that granted the direct INSERT (a privilege the block does not withhold on the event log):
    # the trigger is then what stands between the session and another tenant's stream.
    conn.execute("GRANT INSERT ON events.event_store TO leadboost_app")
    conn.execute("SET ROLE leadboost_app")
    conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(mine) if bound else "",))
    try:
        with pytest.raises(psycopg.Error) as refused:
            conn.execute(INSERT, (theirs,))
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET app.tenant_id")
    assert refused.value.sqlstate == "LB003"
    expected = (f"session is bound to tenant {mine} and cannot write rows of tenant {theirs}" if bound
                else "session is not bound to a tenant")
    assert refused.value.diag.message_primary == expected

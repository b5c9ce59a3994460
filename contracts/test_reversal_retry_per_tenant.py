"""A reversal retried (the same request again: the same description, or both NULL) returns the caller's OWN
reversal, and one with another description is LB110 naming it — also when another tenant has reversed a posting
under the same transaction id (ids are per tenant) first. Found by the mutation run: the retry's look-up of the
existing reversal without the tenant went unnoticed (it then answered another tenant's reversal id)."""
from __future__ import annotations

import json
import uuid

import pytest

from leadboost_schema.testing.attempts import attempt, rolled_back

LEGS = json.dumps([{"account_type": "CASH", "amount": 4, "direction": 1},
                   {"account_type": "REVENUE", "amount": 4, "direction": -1}])
REVERSE = "SELECT finanzas.reverse_transaction(%s, %s, %s)"


@pytest.mark.parametrize("description", [None, "refund"])
def test_a_reversal_retried_returns_the_callers_own_reversal(leadboost_conn, make_tenant, description):
    conn = leadboost_conn
    shared = uuid.uuid4()
    a, b = make_tenant(conn), make_tenant(conn)
    for tenant in (b, a):
        conn.execute("SELECT finanzas.post_transaction(%s, %s, 'EUR', NULL, %s)", (tenant, LEGS, shared))
    theirs = conn.execute(REVERSE, (b, shared, description)).fetchone()[0]
    mine = conn.execute(REVERSE, (a, shared, description)).fetchone()[0]
    assert mine != theirs
    assert conn.execute(REVERSE, (a, shared, description)).fetchone()[0] == mine
    with rolled_back(conn):
        other = attempt(conn, REVERSE, (a, shared, "another description"))
    assert (other.sqlstate, other.message) == (
        "LB110", f"transaction {shared} is already reversed by transaction {mine}")

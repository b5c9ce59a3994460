"""The balance check of a posting (finanzas.check_transaction_balanced, deferred to COMMIT) counts and sums the
legs of that tenant's transaction only. Transaction ids are per tenant — two tenants may use the same one — so
another tenant's balanced legs under the same id must not make a header without legs, or with one leg, pass or
change its answer. Found by the mutation run (the check without its tenant conjunct survived)."""
from __future__ import annotations

import json
import uuid

import psycopg
import pytest

LEGS = json.dumps([{"account_type": "CASH", "amount": 7, "direction": 1},
                   {"account_type": "REVENUE", "amount": 7, "direction": -1}])
HEADER = "INSERT INTO finanzas.transactions (id, tenant_id, currency) VALUES (%s, %s, 'EUR')"
LEG = ("INSERT INTO finanzas.ledger_entries (tenant_id, transaction_id, account_type, amount, direction, currency)"
       " VALUES (%s, %s, 'CASH', 5, 1, 'EUR')")


@pytest.mark.parametrize(("legs", "sqlstate"), [(0, "LB106"), (1, "LB106")])
def test_another_tenants_legs_under_the_same_id_do_not_count(leadboost_conn, legs: int, sqlstate: str):
    conn = leadboost_conn
    a, b = (conn.execute("INSERT INTO iam.tenants (name) VALUES (%s) RETURNING id",
                         (f"{name}-{uuid.uuid4().hex[:6]}",)).fetchone()[0] for name in ("a", "b"))
    shared = uuid.uuid4()
    conn.execute("SELECT finanzas.post_transaction(%s, %s, 'EUR', 'sale', %s)", (b, LEGS, shared))
    with pytest.raises(psycopg.Error) as refused, conn.transaction():
        conn.execute(HEADER, (shared, a))
        for _ in range(legs):
            conn.execute(LEG, (a, shared))
    assert refused.value.sqlstate == sqlstate
    assert conn.execute("SELECT count(*) FROM finanzas.transactions WHERE tenant_id = %s", (a,)).fetchone()[0] == 0

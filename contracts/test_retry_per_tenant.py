"""A retried finanzas.post_transaction is compared with its own tenant's posting under that id, never with another
tenant's (issue 13, behaviour 4): transaction ids are per tenant, so two tenants may each hold a posting under one
id; each tenant's true retry returns the id, and a retry carrying the other tenant's legs is a different posting
(LB111)."""
from __future__ import annotations

import json
import uuid

import pytest

from leadboost_schema.testing.attempts import attempt, rolled_back
from leadboost_schema.testing.data_fingerprint import data_fingerprint, fingerprint_changes

LEGS = [{"account_type": "CASH", "amount": 10, "direction": 1},
        {"account_type": "REVENUE", "amount": 10, "direction": -1}]
OTHER_LEGS = [{"account_type": "BANK", "amount": 7, "direction": 1},
              {"account_type": "EQUITY", "amount": 7, "direction": -1}]
POST = "SELECT finanzas.post_transaction(%s, %s, 'EUR', 'sale', %s)"


@pytest.mark.parametrize("second_legs", ["the same legs", "other legs"])
def test_a_retry_is_compared_with_its_own_tenants_posting_only(leadboost_conn, make_tenant, second_legs: str):
    """Invariant: with tenants A and B both holding a posting under one id, a retry by either tenant answers as if
    the other did not exist — its own legs again: the id, nothing written; the other tenant's (different) legs:
    LB111, nothing written."""
    conn = leadboost_conn
    a, b = make_tenant(conn), make_tenant(conn)
    transaction_id = uuid.uuid4()
    legs = {a: LEGS, b: LEGS if second_legs == "the same legs" else OTHER_LEGS}
    for tenant in (a, b):
        assert conn.execute(POST, (tenant, json.dumps(legs[tenant]), transaction_id)).fetchone()[0] == transaction_id
    before = data_fingerprint(conn)
    for tenant, other in ((a, b), (b, a)):
        for retried, same in ((legs[tenant], True), (legs[other], legs[other] == legs[tenant])):
            with rolled_back(conn):
                answer = attempt(conn, POST, (tenant, json.dumps(retried), transaction_id))
                changed = fingerprint_changes(before, data_fingerprint(conn))
            if same:
                assert answer.rows == [(transaction_id,)], f"a true retry answered {answer}"
            else:
                assert answer.sqlstate == "LB111", f"a retry with the other tenant's legs answered {answer}"
            assert changed == [], f"the retry wrote {changed}"

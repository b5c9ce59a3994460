"""A retried posting (same p_transaction_id) is compared with the posting of THAT id: the tenant's other postings,
made before and after it, neither make a true retry fail nor make another posting's content count as the same.
Found by the mutation run: the retry's comparison reading any posting of the tenant instead of the retried id's
went unnoticed (every retry test had one posting per tenant)."""
from __future__ import annotations

import json
import uuid

import pytest

from leadboost_schema.testing.attempts import attempt, rolled_back


def _legs(amount: int) -> str:
    return json.dumps([{"account_type": "CASH", "amount": amount, "direction": 1},
                       {"account_type": "REVENUE", "amount": amount, "direction": -1}])


@pytest.mark.parametrize("retried", range(3))
def test_a_retry_is_compared_with_its_own_ids_posting(leadboost_conn, make_tenant, retried: int):
    conn = leadboost_conn
    tenant = make_tenant(conn)
    ids = [uuid.uuid4() for _ in range(3)]
    for n, transaction_id in enumerate(ids):
        conn.execute("SELECT finanzas.post_transaction(%s, %s, 'EUR', %s, %s)",
                     (tenant, _legs(n + 1), f"posting {n}", transaction_id))
    answers = {}
    for n in range(3):
        with rolled_back(conn):
            answers[n] = attempt(conn, "SELECT finanzas.post_transaction(%s, %s, 'EUR', %s, %s)",
                                 (tenant, _legs(n + 1), f"posting {n}", ids[retried]))
    for n, answer in answers.items():
        if n == retried:
            assert answer.rows == [(ids[retried],)], f"the true retry answered {answer}"
        else:
            assert answer.sqlstate == "LB111", f"posting {n}'s content under posting {retried}'s id answered {answer}"

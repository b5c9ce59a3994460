"""A posting's legs are stored in the order of its legs document — entry ids increase along the document — and a
reversal's legs mirror the original's in the original's order, so reading a transaction's legs by entry id gives
them as the caller wrote them (ledger_entries.id is "increasing in insertion order"). Found by the mutation run:
inserting the legs in reverse order, for a posting or a reversal, went unnoticed (every test compared legs as a
set)."""
from __future__ import annotations

import json

import pytest

# Neither sorted by any column nor the reverse of a sorted order: a reordering cannot pass by chance.
LEGS = [{"account_type": "REVENUE", "amount": 3, "direction": -1},
        {"account_type": "CASH", "amount": 5, "direction": 1},
        {"account_type": "TAX_PAYABLE", "amount": 2, "direction": -1},
        {"account_type": "AD_SPEND", "amount": 1, "direction": 1},
        {"account_type": "EXPENSE", "amount": 1.5, "direction": 1},
        {"account_type": "BANK", "amount": 2.5, "direction": -1}]


def _legs(conn, tenant, transaction_id) -> list[tuple[str, str, int]]:
    return [(a, f"{m.normalize():f}", d) for a, m, d in conn.execute(
        "SELECT account_type, amount, direction FROM finanzas.ledger_entries"
        " WHERE tenant_id = %s AND transaction_id = %s ORDER BY id", (tenant, transaction_id)).fetchall()]


def _written(legs: list[dict], flip: int = 1) -> list[tuple[str, str, int]]:
    return [(leg["account_type"], str(leg["amount"]), flip * leg["direction"]) for leg in legs]


@pytest.mark.parametrize("shift", range(3))
def test_legs_are_stored_in_document_order_and_reversed_in_the_same_order(leadboost_conn, make_tenant, shift: int):
    conn = leadboost_conn
    tenant = make_tenant(conn)
    legs = LEGS[shift:] + LEGS[:shift]
    posted = conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, json.dumps(legs))).fetchone()[0]
    assert _legs(conn, tenant, posted) == _written(legs)
    reversal = conn.execute("SELECT finanzas.reverse_transaction(%s, %s)", (tenant, posted)).fetchone()[0]
    assert _legs(conn, tenant, reversal) == _written(legs, flip=-1)

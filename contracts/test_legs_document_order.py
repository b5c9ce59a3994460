"""A refused legs document names its first bad leg (schema/README.md: LB101-LB104 say ``leg <i>``): the legs before
it may hold any valid value — the smallest amount, amounts up to 1, four decimals, the largest amount, 100 legs in
all — and are not the ones refused; only a count above 100 is refused for the count. And a leg with any key
besides account_type, amount and direction is LB101, also when every leg of the document carries one.

Since upgrade 0090 post_transaction accepts a valid document by its own expressions and sends any other to
finanzas.parse_legs, so parse_legs' acceptance shows only in documents that also hold a bad leg. Found by the
mutation run: parse_legs refusing 100 legs or a fourth decimal, and the fast path accepting legs that all carry an
extra key, went unnoticed."""
from __future__ import annotations

import json

import psycopg
import pytest

BAD = {"account_type": "CASH", "amount": 5, "direction": 2}  # LB103


def _refusal(conn: psycopg.Connection, tenant, legs: list[dict], amount: str = "5") -> tuple[str, str] | None:
    """The refusal of posting ``legs`` (a leg's amount "AMOUNT" written as the JSON number ``amount``)."""
    document = json.dumps(legs).replace('"AMOUNT"', amount)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SELECT finanzas.post_transaction(%s, %s::jsonb)", (tenant, document))
    except psycopg.Error as refused:
        return refused.sqlstate, refused.diag.message_primary
    return None


@pytest.mark.parametrize("amount", ["0.0001", "0.5", "1", "1.2345", "999999999999999.9999"])
def test_a_valid_leg_before_a_bad_one_is_not_the_one_refused(leadboost_conn, make_tenant, amount: str):
    tenant = make_tenant(leadboost_conn)
    good = {"account_type": "CASH", "amount": "AMOUNT", "direction": 1}
    sqlstate, message = _refusal(leadboost_conn, tenant, [good, BAD], amount) or (None, "")
    assert (sqlstate, message.split(":")[0]) == ("LB103", "leg 2"), message


@pytest.mark.parametrize(("count", "named"), [(2, "leg 2"), (99, "leg 99"), (100, "leg 100"), (101, None)])
def test_the_bad_last_leg_is_named_up_to_100_legs(leadboost_conn, make_tenant, count: int, named: str | None):
    tenant = make_tenant(leadboost_conn)
    legs = [{"account_type": "CASH", "amount": "AMOUNT", "direction": 1}] * (count - 1) + [BAD]
    sqlstate, message = _refusal(leadboost_conn, tenant, legs, "1.2345")
    if named is None:
        assert (sqlstate, message) == ("LB101", f"p_legs has {count} legs: at most 100 are allowed")
    else:
        assert (sqlstate, message.split(":")[0]) == ("LB103", named), message


@pytest.mark.parametrize("which", ["every leg", "the first leg", "the last leg"])
def test_a_leg_with_another_key_is_lb101_however_many_legs_have_one(leadboost_conn, make_tenant, which: str):
    tenant = make_tenant(leadboost_conn)
    legs = [{"account_type": "CASH", "amount": 5, "direction": 1},
            {"account_type": "REVENUE", "amount": 5, "direction": -1}]
    for n, leg in enumerate(legs):
        if which == "every leg" or (which == "the first leg") == (n == 0):
            leg["memo"] = "x"
    sqlstate, message = _refusal(leadboost_conn, tenant, legs) or (None, "")
    assert sqlstate == "LB101", message
    assert "must have exactly the keys account_type, amount, direction" in message
    assert leadboost_conn.execute("SELECT count(*) FROM finanzas.transactions WHERE tenant_id = %s",
                                  (tenant,)).fetchone()[0] == 0

"""The legs document of finanzas.post_transaction (checked by finanzas.parse_legs) at its documented edges (found by the mutation run: each edge
moved by one went unnoticed): 2–100 legs; an amount a JSON number > 0, < 1e15, with at most 4 decimals, else
LB102 — not the column's own overflow or rounding; and a refused leg or value is quoted in the message whole when
short, up to its first 200 (the leg) or 100 (one value) characters when long (schema/README.md, error codes)."""
from __future__ import annotations

import json

import psycopg
import pytest


def _post(conn: psycopg.Connection, tenant, legs: list[dict]) -> psycopg.Error | None:
    """The refusal of posting ``legs`` (None: posted), the connection left usable."""
    try:
        with conn.transaction():
            conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, json.dumps(legs)))
    except psycopg.Error as refused:
        return refused
    return None


def _balanced(count: int, amount: float | int | str = 1) -> list[dict]:
    """``count`` legs (even) of one amount, half debits and half credits: balanced."""
    return [{"account_type": "CASH" if i % 2 == 0 else "REVENUE", "amount": amount, "direction": 1 - 2 * (i % 2)}
            for i in range(count)]


@pytest.mark.parametrize(("count", "sqlstate"), [(2, None), (100, None), (101, "LB101"), (102, "LB101")])
def test_a_posting_has_at_most_100_legs(leadboost_conn, make_tenant, count: int, sqlstate: str | None):
    """100 legs is the last count accepted (all of them stored); 101 is refused by the count, not by balance."""
    tenant = make_tenant(leadboost_conn)
    legs = _balanced(count) if count % 2 == 0 else [*_balanced(count - 1), _leg()]
    refused = _post(leadboost_conn, tenant, legs)
    assert (refused and refused.sqlstate) == sqlstate, refused
    stored = leadboost_conn.execute("SELECT count(*) FROM finanzas.ledger_entries WHERE tenant_id = %s",
                                    (tenant,)).fetchone()[0]
    assert stored == (count if sqlstate is None else 0)


@pytest.mark.parametrize(("amount", "sqlstate"), [
    ("0.0001", None), ("1.2345", None), ("999999999999999.9999", None),
    ("0", "LB102"), ("-0.0001", "LB102"), ("0.00001", "LB102"), ("1.23451", "LB102"), ("1e15", "LB102"),
    ("1000000000000000.0001", "LB102"),
])
def test_an_amount_is_a_number_above_0_below_1e15_with_at_most_4_decimals(leadboost_conn, make_tenant,
                                                                            amount: str, sqlstate: str | None):
    """Each edge of the amount rule on both sides, as the JSON number's own text: the smallest amount and the
    largest are posted exactly; one decimal too many, zero and 1e15 are LB102 (not rounded, not a numeric
    overflow)."""
    tenant = make_tenant(leadboost_conn)
    legs = [{"account_type": "CASH", "amount": "AMOUNT", "direction": 1},
            {"account_type": "REVENUE", "amount": "AMOUNT", "direction": -1}]
    document = json.dumps(legs).replace('"AMOUNT"', amount)
    try:
        with leadboost_conn.transaction():
            leadboost_conn.execute("SELECT finanzas.post_transaction(%s, %s::jsonb)", (tenant, document))
        answer = None
    except psycopg.Error as refused:
        answer = refused.sqlstate
    assert answer == sqlstate
    if sqlstate is None:
        stored = leadboost_conn.execute("SELECT DISTINCT amount::text FROM finanzas.ledger_entries"
                                        " WHERE tenant_id = %s", (tenant,)).fetchall()
        assert stored == [(leadboost_conn.execute("SELECT (%s::numeric(19, 4))::text", (amount,)).fetchone()[0],)]
        assert leadboost_conn.execute("SELECT %s::numeric = round(%s::numeric, 4)", (amount, amount)).fetchone()[0]


LONG = 300  # longer than any quote limit


def _leg(**changes: object) -> dict:
    return {"account_type": "CASH", "amount": 1, "direction": 1, **changes}


# (what is wrong with leg 1, the leg, the value quoted in the message, its limit, sqlstate, message up to the quote)
QUOTED = {
    "extra key": (_leg(note="n" * LONG), None, 200, "LB101",
                  "leg 1 must have exactly the keys account_type, amount, direction: "),
    "extra key, short": (_leg(note="n"), None, 200, "LB101",
                         "leg 1 must have exactly the keys account_type, amount, direction: "),
    "unknown account": (_leg(account_type="A" * LONG), "account_type", 100, "LB104", "leg 1: unknown account_type "),
    "unknown account, short": (_leg(account_type="CASHY"), "account_type", 100, "LB104",
                               "leg 1: unknown account_type "),
    "amount not a number": (_leg(amount="9" * LONG), "amount", 100, "LB102",
                            "leg 1: amount must be a JSON number, got "),
    "amount out of range": (_leg(amount=int("9" * LONG)), "amount", 100, "LB102",
                            "leg 1: amount must be > 0, < 1e15 and have at most 4 decimals, got "),
    "direction": (_leg(direction="d" * LONG), "direction", 100, "LB103",
                  "leg 1: direction must be 1 (debit) or -1 (credit), got "),
    "direction, short": (_leg(direction=2), "direction", 100, "LB103",
                         "leg 1: direction must be 1 (debit) or -1 (credit), got "),
}


@pytest.mark.parametrize("case", QUOTED)
def test_a_refused_leg_is_quoted_whole_when_short_and_up_to_its_limit_when_long(leadboost_conn, make_tenant,
                                                                                case: str):
    """The message ends with the refused JSON (the whole leg, or the one value: its JSON text; an amount out of
    range: the number as PostgreSQL prints it) cut to its first 200 (leg) or 100 (value) characters."""
    leg, key, limit, sqlstate, prefix = QUOTED[case]
    tenant = make_tenant(leadboost_conn)
    refused = _post(leadboost_conn, tenant, [leg, _leg(direction=-1)])
    assert refused is not None and refused.sqlstate == sqlstate, refused
    document = json.dumps(leg)
    if key is None:
        text = leadboost_conn.execute("SELECT %s::jsonb::text", (document,)).fetchone()[0]
    elif case == "amount out of range":
        text = leadboost_conn.execute("SELECT (%s::jsonb ->> 'amount')::numeric::text", (document,)).fetchone()[0]
    else:
        text = leadboost_conn.execute("SELECT (%s::jsonb -> %s)::text", (document, key)).fetchone()[0]
    assert refused.diag.message_primary == prefix + text[:limit]
    if "short" in case:
        assert len(text) < limit
    else:
        assert len(text) > limit

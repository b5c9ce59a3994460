"""Single rules of post_transaction: its balance check stays deferred to COMMIT whatever the caller set, a
retried id is compared with the earlier posting in full, its tenant included, and a balanced posting with a bad
leg gets that leg's error (the fast path of 0090 lets none through)."""
from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from leadboost_schema.testing.attempts import acting_as, attempt, rolled_back
from leadboost_schema.testing.data_fingerprint import data_fingerprint, fingerprint_changes

LEGS = [{"account_type": "CASH", "amount": 10, "direction": 1},
        {"account_type": "REVENUE", "amount": 10, "direction": -1}]
EXTRA_LEG = ("INSERT INTO finanzas.ledger_entries (tenant_id, transaction_id, account_type, amount, direction,"
             " currency) VALUES (%s, %s, 'SUSPENSE', 1, 1, 'EUR')")


def post(conn, tenant, transaction_id=None, legs=LEGS, currency="EUR", description=None):
    return conn.execute("SELECT finanzas.post_transaction(%s, %s, %s, %s, %s)",
                        (tenant, json.dumps(legs), currency, description, transaction_id)).fetchone()[0]


def write(conn, tenant, function: str):
    """Post (or reverse a committed posting): the id of the transaction the call wrote."""
    if function == "post_transaction":
        return post(conn, tenant)
    original = post(conn, tenant)  # in the caller's transaction: fine, its own check is deferred as well
    return conn.execute("SELECT finanzas.reverse_transaction(%s, %s)", (tenant, original)).fetchone()[0]


@pytest.mark.parametrize("function", ["post_transaction", "reverse_transaction"])
@pytest.mark.parametrize("mode", ["SET CONSTRAINTS ALL IMMEDIATE",
                                  "SET CONSTRAINTS finanzas.transactions_balanced IMMEDIATE"])
def test_the_balance_check_waits_for_commit_even_when_the_caller_asked_for_immediate(leadboost_conn, make_tenant,
                                                                                   function, mode):
    """Under SET CONSTRAINTS … IMMEDIATE a balanced call still succeeds (its header is checked at COMMIT, not after
    the header's INSERT, when it has no legs yet), and the check still runs at COMMIT: a leg added afterwards in the
    same transaction that unbalances the posting makes the COMMIT fail with LB105 and leaves nothing."""
    tenant = make_tenant(leadboost_conn)
    with leadboost_conn.transaction():
        leadboost_conn.execute(mode)
        written = write(leadboost_conn, tenant, function)
    assert leadboost_conn.execute("SELECT count(*) FROM finanzas.ledger_entries WHERE transaction_id = %s",
                                  (written,)).fetchone()[0] == 2

    before = data_fingerprint(leadboost_conn)
    with pytest.raises(psycopg.Error) as refused:
        with leadboost_conn.transaction():
            leadboost_conn.execute(mode)
            written = write(leadboost_conn, tenant, function)
            leadboost_conn.execute(EXTRA_LEG, (tenant, written))
    assert refused.value.sqlstate == "LB105", f"the COMMIT answered {refused.value.sqlstate}: {refused.value}"
    assert fingerprint_changes(before, data_fingerprint(leadboost_conn)) == []


# Each way a retry may differ from the earlier posting under its id; "nothing" is a true retry.
DIFFERENCES = {
    "nothing": {},
    "currency": {"currency": "USD"},
    "description": {"description": "another"},
    "an amount": {"legs": [{**LEGS[0], "amount": 11}, {**LEGS[1], "amount": 11}]},
    "an account": {"legs": [{**LEGS[0], "account_type": "BANK"}, LEGS[1]]},
    "the directions": {"legs": [{**LEGS[0], "direction": -1}, {**LEGS[1], "direction": 1}]},
    "a leg more": {"legs": [*LEGS, {"account_type": "CASH", "amount": 1, "direction": 1},
                            {"account_type": "REVENUE", "amount": 1, "direction": -1}]},
}


@pytest.mark.parametrize("difference", list(DIFFERENCES))
@pytest.mark.parametrize("caller", ["owner", "app bound to the retrying tenant"])
def test_a_retried_id_is_accepted_only_for_the_same_posting_of_the_same_tenant(leadboost_conn, make_tenant,
                                                                             difference, caller):
    """A posting retried under its id returns the id and writes nothing only when everything is the same —
    currency, description, the legs as a multiset; anything else is refused with LB111 and writes nothing. (Ids are
    per tenant since upgrade 0003: another tenant's use of the id is a new posting,
    contracts/test_ledger_attacks.py::test_another_tenants_transaction_id_is_free_for_this_tenant.)"""
    tenant = make_tenant(leadboost_conn)
    transaction_id = uuid.uuid4()
    post(leadboost_conn, tenant, transaction_id, description="sale")
    retry = {"tenant": tenant, "legs": LEGS, "currency": "EUR", "description": "sale", **DIFFERENCES[difference]}
    before = data_fingerprint(leadboost_conn)
    with rolled_back(leadboost_conn):
        if caller == "owner":
            answer = attempt(leadboost_conn, "SELECT finanzas.post_transaction(%s, %s, %s, %s, %s)",
                             (retry["tenant"], json.dumps(retry["legs"]), retry["currency"], retry["description"],
                              transaction_id))
        else:
            with acting_as(leadboost_conn, retry["tenant"]) as conn:
                answer = attempt(conn, "SELECT finanzas.post_transaction(%s, %s, %s, %s, %s)",
                                 (retry["tenant"], json.dumps(retry["legs"]), retry["currency"],
                                  retry["description"], transaction_id))
        changed = fingerprint_changes(before, data_fingerprint(leadboost_conn))  # inside: before the rollback
    if difference == "nothing":
        assert answer.rows == [(transaction_id,)], f"a true retry answered {answer}"
    else:
        assert answer.sqlstate == "LB111", f"a retry differing in {difference} answered {answer}"
    assert changed == [], f"the retry wrote {changed}"


def test_a_posting_retried_under_a_reversal_id_is_refused(leadboost_conn, make_tenant):
    """The id of a reversal is not a posting of those legs: posting its mirror legs under its id is LB111."""
    tenant = make_tenant(leadboost_conn)
    reversal = leadboost_conn.execute("SELECT finanzas.reverse_transaction(%s, %s)",
                                      (tenant, post(leadboost_conn, tenant))).fetchone()[0]
    mirror = [{**leg, "direction": -leg["direction"]} for leg in LEGS]
    with rolled_back(leadboost_conn):
        answer = attempt(leadboost_conn, "SELECT finanzas.post_transaction(%s, %s, 'EUR', %s, %s)",
                         (tenant, json.dumps(mirror), leadboost_conn.execute(
                             "SELECT description FROM finanzas.transactions WHERE id = %s", (reversal,)).fetchone()[0],
                          reversal))
    assert answer.sqlstate == "LB111", answer


# Legs that break one rule each while still summing to zero, so only the leg check can refuse them: post_transaction
# validates well-formed legs by expressions (0090) and sends any other call to parse_legs, which names the rule. A
# fast path that let one through would insert it (a fifth decimal rounded away) or fail later with another code.
def _pair(amount, direction=1, **extra):
    return [{"account_type": "CASH", "amount": amount, "direction": direction, **extra},
            {"account_type": "REVENUE", "amount": amount, "direction": -direction}]


BALANCED_BAD_LEGS = {
    "a fifth decimal": (_pair(0.00001), "LB102"),
    "an amount of 1e15": (_pair(10**15), "LB102"),
    "an amount as a string": (_pair("1"), "LB102"),
    "a direction of 2": ([{"account_type": "CASH", "amount": 1, "direction": 2},
                          {"account_type": "REVENUE", "amount": 2, "direction": -1}], "LB103"),
    "an unknown account": ([{"account_type": "PETTY_CASH", "amount": 1, "direction": 1},
                            {"account_type": "REVENUE", "amount": 1, "direction": -1}], "LB104"),
    "an extra key": (_pair(1, note="x"), "LB101"),
    "a leg that is a number": ([0, *_pair(1)], "LB101"),
    "101 legs": (_pair(1) * 50 + [{"account_type": "CASH", "amount": 0, "direction": 1}], "LB101"),
}


@pytest.mark.parametrize("case", BALANCED_BAD_LEGS)
def test_a_balanced_posting_with_a_bad_leg_gets_the_leg_error(leadboost_conn, make_tenant, case):
    """A posting whose legs sum to zero but break one leg rule is refused with that rule's code, and writes nothing;
    the same legs with the rule kept (1, 1.0 as a direction) are posted."""
    legs, code = BALANCED_BAD_LEGS[case]
    tenant = make_tenant(leadboost_conn)
    before = data_fingerprint(leadboost_conn)
    with rolled_back(leadboost_conn):
        result = attempt(leadboost_conn, "SELECT finanzas.post_transaction(%s, %s)", (tenant, json.dumps(legs)))
    assert result.error is not None and result.error.sqlstate == code, result
    assert fingerprint_changes(before, data_fingerprint(leadboost_conn)) == []
    posted = post(leadboost_conn, tenant, legs=[{"account_type": "CASH", "amount": 1.5, "direction": 1.0},
                                                {"account_type": "REVENUE", "amount": 1.5, "direction": -1}])
    assert leadboost_conn.execute("SELECT array_agg(direction ORDER BY direction) FROM finanzas.ledger_entries"
                                  " WHERE transaction_id = %s", (posted,)).fetchone()[0] == [-1, 1]

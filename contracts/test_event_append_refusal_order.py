"""events.append_event checks the session's right to act for the tenant before it looks at the stream: a restricted
session that is unbound, or bound to another tenant, gets LB003 (iam.assert_tenant_access's message) whatever the
rest of the call would have answered — a wrong expected version (LB601), another stream type (LB604), or the event
id of an event already stored (a replay, which would answer that event's version). Otherwise the refusal itself
tells it about a stream it may not read. Found by the mutation run: the inline binding decision of upgrade 0090
letting an unbound restricted role through went unnoticed, since the version trigger refuses its INSERT with
LB003 too — but only after the function had read the stream and answered from it."""
from __future__ import annotations

import uuid

import pytest

from leadboost_schema.testing.attempts import acting_as, attempt, rolled_back

APPEND = "SELECT events.append_event(%s, 'acct-1', %s, 'Credited', %s, %s, '{}', %s)"


@pytest.fixture
def stream(leadboost_conn, make_tenant) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """Tenant A's stream acct-1 (ACCOUNT) at version 2, its first event's id, and tenant B."""
    a, b = make_tenant(leadboost_conn), make_tenant(leadboost_conn)
    first = uuid.uuid4()
    leadboost_conn.execute(APPEND, (a, "ACCOUNT", '{"n": 1}', 0, first))
    leadboost_conn.execute(APPEND, (a, "ACCOUNT", '{"n": 2}', 1, None))
    return a, b, first


CALLS = {
    "a wrong expected version": lambda first: ("ACCOUNT", '{"n": 3}', 7, None),
    "another stream type": lambda first: ("LEDGER", '{"n": 3}', 2, None),
    "a replay of a stored event": lambda first: ("ACCOUNT", '{"n": 1}', 0, first),
    "a valid append": lambda first: ("ACCOUNT", '{"n": 3}', 2, None),
}


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize("binding", ["unbound", "other tenant"])
def test_a_session_that_may_not_act_for_the_tenant_is_lb003_before_the_stream_is_read(leadboost_conn, stream,
                                                                                      binding: str, call: str):
    a, b, first = stream
    with rolled_back(leadboost_conn), acting_as(leadboost_conn, None if binding == "unbound" else b):
        answer = attempt(leadboost_conn, APPEND, (a, *CALLS[call](first)))
    expected = ("session is not bound to a tenant" if binding == "unbound"
                else f"session is bound to tenant {b} and cannot act for tenant {a}")
    assert (answer.sqlstate, answer.message) == ("LB003", expected), str(answer)
    assert leadboost_conn.execute("SELECT count(*) FROM events.event_store WHERE tenant_id = %s",
                                  (a,)).fetchone()[0] == 2


def test_the_calls_answer_otherwise_for_the_tenants_own_session(leadboost_conn, stream):
    """The same calls, bound to A: each gets its own answer — so the LB003 above is the binding's, not the call's."""
    a, _, first = stream
    answers = {}
    for call, arguments in CALLS.items():
        with rolled_back(leadboost_conn), acting_as(leadboost_conn, a):
            done = attempt(leadboost_conn, APPEND, (a, *arguments(first)))
        answers[call] = done.sqlstate or done.rows[0][0]
    assert answers == {"a wrong expected version": "LB601", "another stream type": "LB604",
                       "a replay of a stored event": 1, "a valid append": 3}

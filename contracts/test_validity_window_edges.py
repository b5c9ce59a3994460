"""A governance policy applies within [valid_from, valid_until): its first instant included, its end excluded, at
the microsecond (issue 13, behaviour 8: an inclusive valid_until passed the suite; the property
properties/test_governance.py::test_a_policy_applies_exactly_within_its_validity_window rarely draws a moment on
an edge). gobernanza.validate_action, gobernanza.record_action_outcome and the gobernanza.active_policies view."""
from __future__ import annotations

import datetime as dt

import pytest

ACTION = "ads.spend"
START = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
END = START + dt.timedelta(hours=1)
TICK = dt.timedelta(microseconds=1)
MOMENTS = {"before valid_from": (START - TICK, False), "valid_from": (START, True),
           "just before valid_until": (END - TICK, True), "valid_until": (END, False),
           "after valid_until": (END + TICK, False)}


def _policy(conn, tenant, kind: str, valid_from, valid_until):
    breaker = (3, 60, "CLOSED") if kind == "CIRCUIT_BREAKER" else (None, None, None)
    return conn.execute(
        "INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, failure_threshold, cooldown_seconds,"
        " breaker_state, valid_from, valid_until) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (tenant, kind.lower(), kind, ACTION, *breaker, valid_from, valid_until)).fetchone()[0]


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_kill_switch_denies_exactly_from_valid_from_until_before_valid_until(leadboost_conn, make_tenant, moment):
    at, applies = MOMENTS[moment]
    tenant = make_tenant(leadboost_conn)
    policy = _policy(leadboost_conn, tenant, "KILL_SWITCH", START, END)
    verdict = leadboost_conn.execute("SELECT * FROM gobernanza.validate_action(%s, %s, 0, %s)",
                                     (tenant, ACTION, at)).fetchone()
    assert verdict == ((False, policy, "KILL_SWITCH") if applies else (True, None, "NO_POLICY"))


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_breaker_records_outcomes_exactly_from_valid_from_until_before_valid_until(leadboost_conn, make_tenant,
                                                                                   moment):
    at, applies = MOMENTS[moment]
    tenant = make_tenant(leadboost_conn)
    policy = _policy(leadboost_conn, tenant, "CIRCUIT_BREAKER", START, END)
    reported = leadboost_conn.execute("SELECT policy_id, failure_count FROM gobernanza.record_action_outcome("
                                      "%s, %s, false, %s)", (tenant, ACTION, at)).fetchall()
    assert reported == ([(policy, 1)] if applies else [])
    stored = leadboost_conn.execute("SELECT failure_count FROM gobernanza.policies WHERE id = %s",
                                    (policy,)).fetchone()[0]
    assert stored == (1 if applies else 0)


@pytest.mark.parametrize(("ends", "listed"), [("at now()", False), ("a microsecond after now()", True)])
def test_the_active_policies_view_leaves_out_a_policy_whose_valid_until_is_now(leadboost_conn, make_tenant, ends,
                                                                               listed):
    """now() is the transaction's start: a policy ending at it is no longer in force in that transaction."""
    tenant = make_tenant(leadboost_conn)
    with leadboost_conn.transaction():
        now = leadboost_conn.execute("SELECT now()").fetchone()[0]
        _policy(leadboost_conn, tenant, "KILL_SWITCH", now - dt.timedelta(hours=1),
                now if ends == "at now()" else now + TICK)
        names = leadboost_conn.execute("SELECT name FROM gobernanza.active_policies WHERE tenant_id = %s",
                                       (tenant,)).fetchall()
    assert names == ([("kill_switch",)] if listed else [])

"""What a governance call may touch (found by the mutation run: each rule below could be dropped with every other
test passing). gobernanza.validate_action, when it allows a call, changes exactly the caps in force for the action
(their window) and the breakers waiting for a probe (to HALF_OPEN) — no other policy, of that tenant or another.
gobernanza.record_action_outcome moves a CLOSED breaker's breaker_changed_at only when it opens, and locks only the
breakers in force for the tenant's action: a lock held on any other policy row never makes it wait. A refused amount
is quoted in LB302's message up to 100 characters."""
from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest

ACTION = "ads.spend"
AT = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
EARLIER = AT - dt.timedelta(days=1)
INSERT = ("INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, limit_value, window_seconds,"
          " failure_threshold, cooldown_seconds, breaker_state, breaker_changed_at, is_active, valid_from,"
          " valid_until) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id")


def _policy(conn, tenant: uuid.UUID, name: str, kind: str, action: str = ACTION, state: str = "CLOSED",
            active: bool = True, valid: tuple = (EARLIER, None)) -> uuid.UUID:
    cap = (100, 60) if kind in ("SPEND_LIMIT", "RATE_LIMIT") else (None, None)
    breaker = (3, 60, state, EARLIER) if kind == "CIRCUIT_BREAKER" else (None, None, None, None)
    return conn.execute(INSERT, (tenant, name, kind, action, *cap, *breaker, active, *valid)).fetchone()[0]


def _rows(conn) -> dict[uuid.UUID, dict]:
    return dict(conn.execute("SELECT id, to_jsonb(p) FROM gobernanza.policies AS p").fetchall())


def _out_of_scope(conn, tenant: uuid.UUID, other: uuid.UUID) -> list[uuid.UUID]:
    """Policies that no call of ``tenant`` for ACTION at AT may change: another action, inactive, not yet or no
    longer valid, and another tenant's of every kind."""
    return [_policy(conn, tenant, "other action", "SPEND_LIMIT", action="crm.sync"),
            _policy(conn, tenant, "inactive cap", "SPEND_LIMIT", active=False),
            _policy(conn, tenant, "inactive breaker", "CIRCUIT_BREAKER", state="OPEN", active=False),
            _policy(conn, tenant, "future breaker", "CIRCUIT_BREAKER", state="OPEN", valid=(AT + dt.timedelta(1), None)),
            _policy(conn, tenant, "expired breaker", "CIRCUIT_BREAKER", state="OPEN", valid=(EARLIER, AT)),
            _policy(conn, other, "cap", "SPEND_LIMIT"), _policy(conn, other, "rate", "RATE_LIMIT"),
            _policy(conn, other, "waiting breaker", "CIRCUIT_BREAKER", state="OPEN"),
            _policy(conn, other, "closed breaker", "CIRCUIT_BREAKER")]


def test_an_allowed_call_changes_only_the_caps_in_force_and_the_waiting_breakers(leadboost_conn, make_tenant):
    tenant, other = make_tenant(leadboost_conn), make_tenant(leadboost_conn)
    cap = _policy(leadboost_conn, tenant, "cap", "SPEND_LIMIT")
    rate = _policy(leadboost_conn, tenant, "rate", "RATE_LIMIT", action="*")
    waiting = _policy(leadboost_conn, tenant, "waiting breaker", "CIRCUIT_BREAKER", state="OPEN")
    _policy(leadboost_conn, tenant, "closed breaker", "CIRCUIT_BREAKER")
    _out_of_scope(leadboost_conn, tenant, other)
    before = _rows(leadboost_conn)
    verdict = leadboost_conn.execute("SELECT allowed, reason FROM gobernanza.validate_action(%s, %s, 5, %s)",
                                     (tenant, ACTION, AT)).fetchone()
    after = _rows(leadboost_conn)
    assert verdict == (True, "ALLOWED")
    changed = {policy for policy in before if before[policy] != after[policy]}
    assert changed == {cap, rate, waiting}
    assert (after[cap]["window_consumed"], after[rate]["window_consumed"]) == (5, 1)
    assert after[waiting]["breaker_state"] == "HALF_OPEN"


def test_a_breakers_change_time_moves_only_with_its_state(leadboost_conn, make_tenant):
    """Threshold 3: two failures, a success (the count starts again), three failures (it opens), then reports while
    OPEN change nothing."""
    tenant = make_tenant(leadboost_conn)
    breaker = _policy(leadboost_conn, tenant, "breaker", "CIRCUIT_BREAKER")
    seen = []
    for k, succeeded in enumerate((False, False, True, False, False, False, True, False), start=1):
        leadboost_conn.execute("SELECT * FROM gobernanza.record_action_outcome(%s, %s, %s, %s)",
                               (tenant, ACTION, succeeded, AT + dt.timedelta(seconds=k)))
        seen.append(leadboost_conn.execute("SELECT breaker_state, failure_count, breaker_changed_at"
                                           " FROM gobernanza.policies WHERE id = %s", (breaker,)).fetchone())
    opened = ("OPEN", 3, AT + dt.timedelta(seconds=6))
    assert seen == [("CLOSED", 1, EARLIER), ("CLOSED", 2, EARLIER), ("CLOSED", 0, EARLIER), ("CLOSED", 1, EARLIER),
                    ("CLOSED", 2, EARLIER), opened, opened, opened]


def test_an_outcome_waits_for_no_lock_on_a_policy_outside_its_scope(leadboost_conn, leadboost_dsn, make_tenant):
    """Another session holds every out-of-scope row FOR UPDATE; with lock_timeout set, any wait on one of them would
    end the call with 55P03 (a lock wait detected, not a timed guess: the call needs no lock but its own rows)."""
    tenant, other = make_tenant(leadboost_conn), make_tenant(leadboost_conn)
    _policy(leadboost_conn, tenant, "breaker", "CIRCUIT_BREAKER")
    held = _out_of_scope(leadboost_conn, tenant, other) + [
        _policy(leadboost_conn, tenant, kind.lower(), kind) for kind in ("SPEND_LIMIT", "RATE_LIMIT", "KILL_SWITCH")]
    with psycopg.connect(leadboost_dsn) as holder, psycopg.connect(leadboost_dsn, autocommit=True) as caller:
        locked = holder.execute("SELECT 1 FROM gobernanza.policies WHERE id = ANY(%s) FOR UPDATE", (held,)).fetchall()
        assert len(locked) == len(held)
        caller.execute("SET lock_timeout = '2s'")
        reported = caller.execute("SELECT breaker_state, failure_count FROM gobernanza.record_action_outcome("
                                  "%s, %s, false, %s)", (tenant, ACTION, AT)).fetchall()
        holder.rollback()
    assert reported == [("CLOSED", 1)]


def test_a_refused_amount_is_quoted_up_to_100_characters(leadboost_conn, make_tenant):
    tenant = make_tenant(leadboost_conn)
    with pytest.raises(psycopg.Error) as refused:
        leadboost_conn.execute("SELECT * FROM gobernanza.validate_action(%s, %s, 1e200, %s)", (tenant, ACTION, AT))
    assert refused.value.sqlstate == "LB302"
    assert refused.value.diag.message_primary.endswith("got 1" + "0" * 99)

"""gobernanza.record_action_outcome locks, up front and in id order, every breaker its UPDATE then writes — also the
breakers at the edges of their validity window (found by the mutation run: the up-front lock could skip a breaker
whose valid_from is exactly p_now, so its UPDATE then took that row out of order, with every other test passing).

A skipped row shows as a deadlock with gobernanza.validate_action, which locks in id order too, pinned down as in
test_governance_lock_order (leadboost_schema.testing.held_lock): a third session holds the lower breaker; validate_action is started and seen waiting on
it; record_action_outcome is started and seen waiting; the third session commits. If record_action_outcome had
locked the higher breaker first (the lower one missing from its up-front lock), validate_action, first in line for
the lower row, then waits for the higher one and the two end in 40P01.
"""
from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest

from leadboost_schema.testing.held_lock import run_behind_held_lock

ACTION = "ads.spend"
AT = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
TICK = dt.timedelta(microseconds=1)
EARLIER = AT - dt.timedelta(days=1)
INSERT = ("INSERT INTO gobernanza.policies (id, tenant_id, name, policy_type, action, failure_threshold,"
          " cooldown_seconds, breaker_state, breaker_changed_at, valid_from, valid_until)"
          " VALUES (%s, %s, %s, 'CIRCUIT_BREAKER', %s, 100, 60, 'CLOSED', %s, %s, %s)")
VALIDATE = "SELECT allowed, reason FROM gobernanza.validate_action(%s, %s, 1, %s)"
RECORD = "SELECT count(*) FROM gobernanza.record_action_outcome(%s, %s, false, %s)"

# The lower breaker's window, at an edge of being in force at AT.
EDGES = {
    "starts at p_now": (AT, None),
    "ends one microsecond after p_now": (EARLIER, AT + TICK),
    "starts at p_now and ends one microsecond after": (AT, AT + TICK),
}


@pytest.mark.parametrize("window", list(EDGES))
def test_a_breaker_at_its_window_edge_is_locked_up_front(leadboost_dsn, make_tenant, window):
    """Rule: a breaker in force at p_now (valid_from <= p_now < valid_until), however close to the edge of its
    window, is locked by record_action_outcome before it locks any breaker of a higher id, so record_action_outcome
    and validate_action never deadlock: both answer once the row they wait for is released."""
    valid_from, valid_until = EDGES[window]
    with psycopg.connect(leadboost_dsn, autocommit=True) as observer:
        tenant = make_tenant(observer)
        lower, higher = sorted(uuid.uuid4() for _ in range(2))
        observer.execute(INSERT, (higher, tenant, "higher", "*", EARLIER, EARLIER, None))
        observer.execute(INSERT, (lower, tenant, "lower", ACTION, EARLIER, valid_from, valid_until))
    seen, answers = run_behind_held_lock(
        leadboost_dsn, "SELECT 1 FROM gobernanza.policies WHERE id = %s FOR UPDATE", (lower,),
        [("validate", VALIDATE, (tenant, ACTION, AT)), ("record", RECORD, (tenant, ACTION, AT))])
    assert seen == [("validate", "waiting"), ("record", "waiting")], seen
    assert answers == {"validate": (True, "ALLOWED"), "record": (2,)}, f"{seen}: {answers}"

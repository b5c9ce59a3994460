"""A numeric range of a CHECK refuses exactly the first value past either end (found by the mutation run:
gobernanza.policies' window_seconds limit made 31622401 went unnoticed — contracts/test_bad_input.py accepts the
edges and refuses random values outside, a few examples per class, so the first one past is seldom drawn). For the
BETWEEN ranges of gobernanza.policies, sys.sagas and sys.saga_steps."""
from __future__ import annotations

import psycopg
import pytest

POLICY = ("INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, limit_value, window_seconds,"
          " failure_threshold, cooldown_seconds, breaker_state, priority) VALUES (%(t)s, 'p', {})")
SAGA = "INSERT INTO sys.sagas (tenant_id, saga_type, step_count, payload) VALUES (%(t)s, 'order.place', {}, '{{}}')"
# constraint → (INSERT with %(t)s the tenant and %(v)s the value, the lowest and the highest value accepted)
RANGES = {
    "policies_window_seconds_check": (
        POLICY.format("'SPEND_LIMIT', 'ads.spend', 10, %(v)s, NULL, NULL, NULL, 100"), 1, 31622400),
    "policies_failure_threshold_check": (
        POLICY.format("'CIRCUIT_BREAKER', 'ads.spend', NULL, NULL, %(v)s, 60, 'CLOSED', 100"), 1, 1000),
    "policies_cooldown_seconds_check": (
        POLICY.format("'CIRCUIT_BREAKER', 'ads.spend', NULL, NULL, 3, %(v)s, 'CLOSED', 100"), 1, 2592000),
    "policies_priority_check": (
        POLICY.format("'KILL_SWITCH', 'ads.spend', NULL, NULL, NULL, NULL, NULL, %(v)s"), 0, 10000),
    "sagas_step_count_check": (SAGA.format("%(v)s"), 1, 100),
    "saga_steps_step_index_check": (
        "WITH saga AS (" + SAGA.format("2") + " RETURNING id) INSERT INTO sys.saga_steps (saga_id, tenant_id,"
        " step_index, step_name) SELECT id, %(t)s, %(v)s, 'extra' FROM saga", 1, 100),
}


@pytest.mark.parametrize("end", ["low", "high"])
@pytest.mark.parametrize("constraint", RANGES)
def test_the_first_value_past_either_end_of_a_range_is_refused(leadboost_conn, make_tenant, constraint: str,
                                                               end: str):
    """The end itself is stored; one past it is refused by the column's own CHECK, nothing stored."""
    insert, low, high = RANGES[constraint]
    edge, past = (low, low - 1) if end == "low" else (high, high + 1)
    tenant = make_tenant(leadboost_conn)
    with leadboost_conn.transaction(force_rollback=True):
        leadboost_conn.execute(insert, {"t": tenant, "v": edge})
    with pytest.raises(psycopg.errors.CheckViolation) as refused:
        leadboost_conn.execute(insert, {"t": tenant, "v": past})
    assert refused.value.diag.constraint_name == constraint

"""Each policy type has exactly its own columns (gobernanza.policies' policies_shape_check; found by the mutation
run: a dropped conjunct of the shape went unnoticed — contracts/test_bad_input.py draws a few bad shapes at
random). For every type: its own shape is stored, and the shape with any one column flipped — a column it needs
left NULL, a column of another type set — is refused by the CHECK."""
from __future__ import annotations

import psycopg
import pytest

VALUES = {"limit_value": 10, "window_seconds": 60, "failure_threshold": 3, "cooldown_seconds": 60,
          "breaker_state": "CLOSED"}
NEEDS = {"SPEND_LIMIT": {"limit_value", "window_seconds"}, "RATE_LIMIT": {"limit_value", "window_seconds"},
         "CIRCUIT_BREAKER": {"failure_threshold", "cooldown_seconds", "breaker_state"}, "KILL_SWITCH": set()}
CASES = [(kind, column) for kind in NEEDS for column in [None, *VALUES]]


def _insert(conn, tenant, kind: str, columns: set[str]) -> None:
    row = {name: (VALUES[name] if name in columns else None) for name in VALUES}
    conn.execute("INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, limit_value, window_seconds,"
                 " failure_threshold, cooldown_seconds, breaker_state) VALUES (%(t)s, 'p', %(k)s, 'ads.spend',"
                 " %(limit_value)s, %(window_seconds)s, %(failure_threshold)s, %(cooldown_seconds)s,"
                 " %(breaker_state)s)", {"t": tenant, "k": kind, **row})


@pytest.mark.parametrize(("kind", "flipped"), CASES, ids=[f"{k}-{c or 'own shape'}" for k, c in CASES])
def test_a_policy_has_exactly_the_columns_of_its_type(leadboost_conn, make_tenant, kind: str, flipped: str | None):
    tenant = make_tenant(leadboost_conn)
    columns = NEEDS[kind] ^ ({flipped} if flipped else set())
    if flipped is None:
        with leadboost_conn.transaction(force_rollback=True):
            _insert(leadboost_conn, tenant, kind, columns)
        return
    with pytest.raises(psycopg.errors.CheckViolation) as refused:
        _insert(leadboost_conn, tenant, kind, columns)
    assert refused.value.diag.constraint_name == "policies_shape_check"


@pytest.mark.parametrize(("kind", "stored"), [("SPEND_LIMIT", True), ("RATE_LIMIT", False)])
def test_a_rate_limit_counts_whole_calls(leadboost_conn, make_tenant, kind: str, stored: bool):
    """A rate limit's limit_value is a whole number of calls (10.5 refused by the shape); a spend limit's need not."""
    tenant = make_tenant(leadboost_conn)
    insert = ("INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, limit_value, window_seconds)"
              " VALUES (%s, 'p', %s, 'ads.spend', 10.5, 60)")
    if stored:
        with leadboost_conn.transaction(force_rollback=True):
            leadboost_conn.execute(insert, (tenant, kind))
        return
    with pytest.raises(psycopg.errors.CheckViolation) as refused:
        leadboost_conn.execute(insert, (tenant, kind))
    assert refused.value.diag.constraint_name == "policies_shape_check"

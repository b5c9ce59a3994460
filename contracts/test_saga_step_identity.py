"""A saga step's identity is fixed (sys.enforce_saga_step_transition, ENABLE ALWAYS: the owner too; found by the
mutation run: the identity check's RAISE could be dropped with every other test passing, because every change tried
kept the status, which the transition check refuses anyway).

An UPDATE of sys.saga_steps that changes saga_id, tenant_id, step_index or step_name is LB502 and changes nothing —
also when it makes a legal status move (PENDING → SUCCEEDED) at the same time.
"""
from __future__ import annotations

import pytest

from leadboost_schema.testing.attempts import attempt

STEPS = '["reserve", "charge", "ship"]'
CHANGES = {
    "step_name": "step_name = 'renamed'",
    "step_index": "step_index = 4",
    "saga_id": "saga_id = %(other_saga)s",
}


@pytest.mark.parametrize("column", list(CHANGES))
def test_a_steps_identity_cannot_change_even_with_a_legal_status_move(leadboost_conn, make_tenant, column):
    """Rule: changing a step's identity is LB502 whatever else the UPDATE does; the step stays as it was."""
    tenant = make_tenant(leadboost_conn)
    saga, other_saga = (leadboost_conn.execute("SELECT sys.start_saga(%s, 'order.place', %s)", (tenant, STEPS))
                        .fetchone()[0] for _ in range(2))
    before = leadboost_conn.execute("SELECT to_jsonb(st) FROM sys.saga_steps AS st WHERE saga_id = %s"
                                    " ORDER BY step_index", (saga,)).fetchall()
    result = attempt(leadboost_conn,
                     f"UPDATE sys.saga_steps SET {CHANGES[column]}, status = 'SUCCEEDED', succeeded_at = now()"
                     " WHERE tenant_id = %(tenant)s AND saga_id = %(saga)s AND step_index = 3",
                     {"tenant": tenant, "saga": saga, "other_saga": other_saga})
    after = leadboost_conn.execute("SELECT to_jsonb(st) FROM sys.saga_steps AS st WHERE saga_id = %s"
                                   " ORDER BY step_index", (saga,)).fetchall()
    assert result.sqlstate == "LB502", str(result)
    assert after == before

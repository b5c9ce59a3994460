"""What a saga report describes (sys.saga_report, returned by sys.record_step_success, sys.record_step_failure and
sys.record_compensation_done; found by the mutation run: next_step could be taken over every saga of the tenant with
every other test passing).

The row a report returns — saga_state, step_status, next_step (RUNNING: its lowest PENDING step), next_compensation_step
(COMPENSATING: its highest SUCCEEDED step) — is about the reported saga alone: other sagas of the tenant, and a saga of
another tenant with the same (caller-chosen) id, whatever their steps, never change it; the report is one row.
"""
from __future__ import annotations

import uuid

import pytest

REPORT = {
    "success": "SELECT * FROM sys.record_step_success(%s, %s, %s, '{\"ok\": 1}')",
    "failure": "SELECT * FROM sys.record_step_failure(%s, %s, %s, 'it broke')",
    "compensated": "SELECT * FROM sys.record_compensation_done(%s, %s, %s)",
}
THREE, FIVE = '["reserve", "charge", "ship"]', '["a", "b", "c", "d", "e"]'

# The reported saga (3 steps), through each ending: each report and the row it returns,
# (applied, saga_state, step_status, next_step, next_compensation_step).
STORIES = {
    "failed at the last step": [
        (("success", 1), (True, "RUNNING", "SUCCEEDED", 2, None)),
        (("success", 2), (True, "RUNNING", "SUCCEEDED", 3, None)),
        (("success", 2), (False, "RUNNING", "SUCCEEDED", 3, None)),
        (("failure", 3), (True, "COMPENSATING", "FAILED", None, 2)),
        (("compensated", 2), (True, "COMPENSATING", "COMPENSATED", None, 1)),
        (("compensated", 2), (False, "COMPENSATING", "COMPENSATED", None, 1)),
        (("compensated", 1), (True, "FAILED", "COMPENSATED", None, None)),
    ],
    "failed in the middle": [  # step 3 stays PENDING, but nothing is to run next
        (("success", 1), (True, "RUNNING", "SUCCEEDED", 2, None)),
        (("failure", 2), (True, "COMPENSATING", "FAILED", None, 1)),
        (("success", 3), (False, "COMPENSATING", "PENDING", None, 1)),
        (("compensated", 1), (True, "FAILED", "COMPENSATED", None, None)),
    ],
    "failed at the first step": [
        (("failure", 1), (True, "FAILED", "FAILED", None, None)),
        (("success", 2), (False, "FAILED", "PENDING", None, None)),
    ],
    "completed": [
        (("success", 1), (True, "RUNNING", "SUCCEEDED", 2, None)),
        (("success", 2), (True, "RUNNING", "SUCCEEDED", 3, None)),
        (("success", 3), (True, "COMPLETED", "SUCCEEDED", None, None)),
        (("success", 3), (False, "COMPLETED", "SUCCEEDED", None, None)),
    ],
}

def _saga(conn, tenant: uuid.UUID, steps: str, saga_id: uuid.UUID | None, reports) -> uuid.UUID:
    saga = conn.execute("SELECT sys.start_saga(%s, 'order.place', %s, '{}', %s)",
                        (tenant, steps, saga_id)).fetchone()[0]
    for kind, index in reports:
        conn.execute(REPORT[kind], (tenant, saga, index))
    return saga


NEIGHBOURS = {
    # sagas whose steps sort around the reported saga's: all PENDING from step 1 / SUCCEEDED up to step 4
    "fresh": [],
    "advanced": [("success", 1), ("success", 2), ("success", 3), ("success", 4)],
    "compensating": [("success", 1), ("success", 2), ("success", 3), ("success", 4), ("failure", 5)],
}


@pytest.mark.parametrize("story", list(STORIES))
@pytest.mark.parametrize("neighbours", list(NEIGHBOURS))
def test_a_report_describes_its_own_saga_only(leadboost_conn, make_tenant, neighbours, story):
    """Rule: each report returns one row about the reported saga's own steps — next_step only while it is RUNNING,
    next_compensation_step only while it is COMPENSATING — whatever other sagas of the tenant and the same saga id
    of another tenant hold."""
    tenant, other = make_tenant(leadboost_conn), make_tenant(leadboost_conn)
    saga_id = uuid.uuid4()
    reports = NEIGHBOURS[neighbours]
    saga = _saga(leadboost_conn, tenant, THREE, saga_id, [])
    _saga(leadboost_conn, other, FIVE, saga_id, reports)        # another tenant, the same id
    _saga(leadboost_conn, tenant, FIVE, None, reports)          # another saga of the tenant
    _saga(leadboost_conn, tenant, FIVE, None, [])
    said = [leadboost_conn.execute(REPORT[kind], (tenant, saga, index)).fetchall()
            for (kind, index), _ in STORIES[story]]
    assert said == [[row] for _, row in STORIES[story]]

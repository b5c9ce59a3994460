"""A saga's failed_step names one of its own steps: 1 to step_count (schema/005, sagas_failed_step_check; found by
the mutation run: the lower bound could be 0 with every other test passing). The functions only ever store the
step that failed, so the CHECK guards what the owner, a migration or a repair script writes directly — a failed
step 0 would point compensation at a step that does not exist."""
from __future__ import annotations

import psycopg
import pytest

INSERT = ("INSERT INTO sys.sagas (tenant_id, saga_type, state, step_count, failed_step)"
          " VALUES (%s, 'campaign.launch', 'COMPENSATING', %s, %s)")
# (step_count, failed_step, accepted)
EDGES = [(3, 0, False), (3, 1, True), (3, 3, True), (3, 4, False), (3, -1, False), (1, 1, True), (1, 2, False),
         (100, 100, True), (100, 101, False)]


@pytest.mark.parametrize(("step_count", "failed_step", "accepted"), EDGES,
                         ids=[f"{f}-of-{n}" for n, f, _ in EDGES])
def test_failed_step_is_one_of_the_sagas_steps(leadboost_conn, make_tenant, step_count, failed_step, accepted):
    """Rule: a saga row is accepted with failed_step exactly when 1 <= failed_step <= step_count; otherwise the
    write is refused by sagas_failed_step_check (23514) and nothing is stored."""
    tenant = make_tenant(leadboost_conn)
    if accepted:
        leadboost_conn.execute(INSERT, (tenant, step_count, failed_step))
    else:
        with pytest.raises(psycopg.errors.CheckViolation) as refused:
            leadboost_conn.execute(INSERT, (tenant, step_count, failed_step))
        assert refused.value.diag.constraint_name == "sagas_failed_step_check"
    stored = leadboost_conn.execute("SELECT step_count, failed_step FROM sys.sagas WHERE tenant_id = %s",
                                    (tenant,)).fetchall()
    assert stored == ([(step_count, failed_step)] if accepted else [])

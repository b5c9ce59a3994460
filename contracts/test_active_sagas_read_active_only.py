"""One tenant's sys.active_sagas reads that tenant's active sagas and nothing else, however many final sagas the
table has accumulated (schema/005: sagas_tenant_active_idx, "a partial index, so listing one tenant's active sagas
reads those rows only"). Found by the mutation run: the partial index's predicate could name another state set —
the index then no longer serves the view, whose read fell back to every saga of the tenant — with every other test
passing (the plan contracts of test_plans run on a dataset where the tenant's sagas are mostly active).

Shown with the rows the plan actually read of sys.sagas (EXPLAIN ANALYZE: the rows each scan of the table produced
plus those it read and dropped by a filter or a recheck): a tenant with a few RUNNING and COMPENSATING sagas among
many COMPLETED and FAILED ones, statistics taken.
"""
from __future__ import annotations

import uuid

import pytest

from leadboost_schema.catalog.plan_check import explain

FINAL_PER_STATE = 1_500
ACTIVE = {"RUNNING": 3, "COMPENSATING": 2}
READ = "SELECT * FROM sys.active_sagas WHERE tenant_id = %(tenant)s"


def _sagas_rows_read(node: dict) -> float:
    """Rows of sys.sagas the plan node and its children read: produced, or read and then removed."""
    read = 0.0
    if node.get("Relation Name") == "sagas" and node.get("Schema") == "sys":
        loops = node.get("Actual Loops", 1)
        read += loops * sum(node.get(field, 0) for field in (
            "Actual Rows", "Rows Removed by Filter", "Rows Removed by Index Recheck"))
    return read + sum(_sagas_rows_read(child) for child in node.get("Plans", []))


def _fill(conn, tenant: uuid.UUID) -> None:
    """The tenant's final sagas (written as the owner: the state machine's trigger watches updates only) and its
    active ones, each with one step."""
    conn.execute("INSERT INTO sys.sagas (tenant_id, saga_type, state, step_count, failed_step, completed_at)"
                 " SELECT %s, 'campaign.launch', state, 1, CASE state WHEN 'FAILED' THEN 1 END, now()"
                 " FROM unnest(ARRAY['COMPLETED', 'FAILED']) AS state, generate_series(1, %s)",
                 (tenant, FINAL_PER_STATE))
    for state, count in ACTIVE.items():
        conn.execute("INSERT INTO sys.sagas (tenant_id, saga_type, state, step_count, failed_step)"
                     " SELECT %s, 'campaign.launch', %s, 1, CASE %s WHEN 'COMPENSATING' THEN 1 END"
                     " FROM generate_series(1, %s)", (tenant, state, state, count))
    conn.execute("INSERT INTO sys.saga_steps (saga_id, tenant_id, step_index, step_name)"
                 " SELECT id, tenant_id, 1, 'book' FROM sys.sagas WHERE tenant_id = %s", (tenant,))


@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
def test_active_sagas_of_a_tenant_read_only_its_active_sagas(leadboost_conn, make_tenant, plan_cache_mode):
    """Rule: listing one tenant's active sagas reads, of sys.sagas, exactly the rows it returns (its RUNNING and
    COMPENSATING sagas) — not one of its thousands of COMPLETED or FAILED sagas."""
    conn = leadboost_conn
    tenant = make_tenant(conn)
    _fill(conn, tenant)
    conn.execute("ANALYZE sys.sagas")
    conn.execute("ANALYZE sys.saga_steps")
    plan = explain(conn, READ, {"tenant": tenant}, generic=plan_cache_mode == "force_generic_plan", analyze=True)
    returned = conn.execute(READ, {"tenant": tenant}).fetchall()
    assert len(returned) == sum(ACTIVE.values())
    assert _sagas_rows_read(plan) == len(returned), plan

"""A text column's length limit refuses exactly one character more than the limit (found by the mutation run:
stock.inventory_items' name limit made 201 went unnoticed — contracts/test_bad_input.py accepts the last length
and refuses a random length past it, a few examples per class, so the first one past is seldom drawn). For the
limits of the tables rows are written to directly: stock.inventory_items, iam.tenants, gobernanza.policies,
migration.campaigns and migration.audit_logs."""
from __future__ import annotations

import psycopg
import pytest

# constraint → (INSERT with %(t)s the tenant and %(v)s the text, the limit)
LIMITS = {
    "inventory_items_name_check": (
        "INSERT INTO stock.inventory_items (tenant_id, sku, name) VALUES (%(t)s, 'SKU-1', %(v)s)", 200),
    "tenants_name_check": ("INSERT INTO iam.tenants (name) VALUES (%(v)s)", 200),
    "policies_name_check": (
        "INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action) VALUES (%(t)s, %(v)s, 'KILL_SWITCH',"
        " 'ads.spend')", 100),
    "policies_description_check": (
        "INSERT INTO gobernanza.policies (tenant_id, name, description, policy_type, action) VALUES (%(t)s, 'p',"
        " %(v)s, 'KILL_SWITCH', 'ads.spend')", 500),
    "campaigns_name_check": (
        "INSERT INTO migration.campaigns (tenant_id, firebase_id, name, status) VALUES (%(t)s, 'c-1', %(v)s,"
        " 'DRAFT')", 200),
    "audit_logs_actor_check": (
        "INSERT INTO migration.audit_logs (tenant_id, firebase_id, actor, action, occurred_at) VALUES (%(t)s, 'a-1',"
        " %(v)s, 'x', now())", 200),
    "audit_logs_action_check": (
        "INSERT INTO migration.audit_logs (tenant_id, firebase_id, actor, action, occurred_at) VALUES (%(t)s, 'a-1',"
        " 'u', %(v)s, now())", 100),
    "audit_logs_entity_type_check": (
        "INSERT INTO migration.audit_logs (tenant_id, firebase_id, actor, action, entity_type, entity_id,"
        " occurred_at) VALUES (%(t)s, 'a-1', 'u', 'x', %(v)s, 'e', now())", 100),
    "audit_logs_entity_id_check": (
        "INSERT INTO migration.audit_logs (tenant_id, firebase_id, actor, action, entity_type, entity_id,"
        " occurred_at) VALUES (%(t)s, 'a-1', 'u', 'x', 't', %(v)s, now())", 200),
}


@pytest.mark.parametrize("constraint", LIMITS)
def test_a_text_one_character_over_its_limit_is_refused(leadboost_conn, make_tenant, constraint: str):
    """At the limit the row is stored; one character more is refused by the column's own CHECK, nothing stored."""
    insert, limit = LIMITS[constraint]
    tenant = make_tenant(leadboost_conn)
    with leadboost_conn.transaction(force_rollback=True):
        leadboost_conn.execute(insert, {"t": tenant, "v": "a" * limit})
    with pytest.raises(psycopg.errors.CheckViolation) as refused:
        leadboost_conn.execute(insert, {"t": tenant, "v": "a" * (limit + 1)})
    assert refused.value.diag.constraint_name == constraint

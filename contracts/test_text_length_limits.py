"""A text column's length limit refuses exactly one character more than the limit (found by the mutation run:
stock.inventory_items' name limit made 201 went unnoticed — contracts/test_bad_input.py accepts the last length
and refuses a random length past it, a few examples per class, so the first one past is seldom drawn). For the
limits of the application schemas but the event store's: iam.tenants, finanzas.transactions, stock.inventory_items,
gobernanza.policies, sys.request_keys, sys.sagas, sys.saga_steps, migration.batch_control, migration.raw_signals,
migration.campaigns and migration.audit_logs (a firebase_id's limit is in octets: the value here is ASCII)."""
from __future__ import annotations

import psycopg
import pytest

KEY = ("INSERT INTO sys.request_keys (tenant_id, idempotency_key, payload_hash, status, lock_token, locked_at,"
       " lease_expires_at, created_at, expires_at, completed_at, error) VALUES (%(t)s, {key}, repeat('0', 64), {status},"
       " gen_random_uuid(), now(), now() + interval '1 hour', now(), now() + interval '1 day', {completed}, {error})")
SAGA = ("INSERT INTO sys.sagas (tenant_id, saga_type, step_count, payload, state, failed_step, failure_reason)"
        " VALUES (%(t)s, 'order.place', 2, '{{}}', {state}, {failed}, {reason})")
# The limits whose column's CHECK was merged into one CHECK per table (upgrade 0094): the rule's old name → the
# constraint that refuses it now.
MERGED_INTO = {"transactions_description_check": "transactions_row_check"}
# rule (its column CHECK's name) → (INSERT with %(t)s the tenant and %(v)s the text, the limit)
LIMITS = {
    "transactions_description_check": (
        "INSERT INTO finanzas.transactions (tenant_id, currency, description) VALUES (%(t)s, 'EUR', %(v)s)", 500),
    "request_keys_idempotency_key_check": (
        KEY.format(key="%(v)s", status="'PROCESSING'", completed="NULL", error="NULL"), 255),
    "request_keys_error_length_check": (
        KEY.format(key="'k'", status="'FAILED'", completed="now()", error="%(v)s"), 2000),
    "sagas_failure_reason_check": (SAGA.format(state="'COMPENSATING'", failed="1", reason="%(v)s"), 2000),
    "saga_steps_error_check": (
        "WITH saga AS (" + SAGA.format(state="'RUNNING'", failed="NULL", reason="NULL") + " RETURNING id)"
        " INSERT INTO sys.saga_steps (saga_id, tenant_id, step_index, step_name, error)"
        " SELECT id, %(t)s, 99, 'extra', %(v)s FROM saga", 2000),
    "batch_control_resume_cursor_check": (
        "INSERT INTO migration.batch_control (tenant_id, firebase_id, collection, status, resume_cursor)"
        " VALUES (%(t)s, 'b-1', 'raw_signals', 'PENDING', %(v)s)", 1500),
    "batch_control_error_check": (
        "INSERT INTO migration.batch_control (tenant_id, firebase_id, collection, status, error)"
        " VALUES (%(t)s, 'b-1', 'raw_signals', 'PENDING', %(v)s)", 2000),
    "batch_control_firebase_id_check": (
        "INSERT INTO migration.batch_control (tenant_id, firebase_id, collection, status)"
        " VALUES (%(t)s, %(v)s, 'raw_signals', 'PENDING')", 1500),
    "raw_signals_signal_type_check": (
        "INSERT INTO migration.raw_signals (tenant_id, firebase_id, signal_type) VALUES (%(t)s, 's-1', %(v)s)", 100),
    "policies_action_check": (
        "INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action) VALUES (%(t)s, 'p', 'KILL_SWITCH',"
        " %(v)s)", 100),
    "raw_signals_firebase_id_check": (
        "INSERT INTO migration.raw_signals (tenant_id, firebase_id, signal_type) VALUES (%(t)s, %(v)s, 'page.view')",
        1500),
    "campaigns_firebase_id_check": (
        "INSERT INTO migration.campaigns (tenant_id, firebase_id, name, status) VALUES (%(t)s, %(v)s, 'c', 'DRAFT')",
        1500),
    "audit_logs_firebase_id_check": (
        "INSERT INTO migration.audit_logs (tenant_id, firebase_id, actor, action, occurred_at) VALUES (%(t)s, %(v)s,"
        " 'u', 'x', now())", 1500),
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


@pytest.mark.parametrize("rule", LIMITS)
def test_a_text_one_character_over_its_limit_is_refused(leadboost_conn, make_tenant, rule: str):
    """At the limit the row is stored; one character more is refused by the column's own CHECK (or the table's
    merged CHECK that holds its rule), nothing stored."""
    insert, limit = LIMITS[rule]
    tenant = make_tenant(leadboost_conn)
    with leadboost_conn.transaction(force_rollback=True):
        leadboost_conn.execute(insert, {"t": tenant, "v": "a" * limit})
    with pytest.raises(psycopg.errors.CheckViolation) as refused:
        leadboost_conn.execute(insert, {"t": tenant, "v": "a" * (limit + 1)})
    assert refused.value.diag.constraint_name == MERGED_INTO.get(rule, rule)

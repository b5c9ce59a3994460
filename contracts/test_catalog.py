"""The catalog contract: schemas, tables, columns, constraints, keys, indexes, triggers, functions, views, RLS, grants."""
from __future__ import annotations

import pytest

from contracts.claims import (
    col_default_is,
    col_is_identity,
    col_is_null,
    col_not_null,
    col_type,
    fk_ok,
    function_returns,
    has_check,
    has_column,
    has_comment,
    has_function,
    has_index,
    has_pk,
    has_policy,
    has_schema,
    has_table,
    has_trigger,
    has_unique,
    has_view,
    is_definer,
    privileges_are,
    rls_enabled,
    search_path_is,
)
from leadboost_schema.catalog.snapshot import SCHEMAS

TENANT_TABLES = [
    "finanzas.transactions", "finanzas.ledger_entries", "finanzas.account_balance_shards", "stock.inventory_items", "gobernanza.policies",
    "sys.request_keys", "sys.sagas", "sys.saga_steps", "events.event_store", "events.snapshots",
    "migration.batch_control", "migration.raw_signals", "migration.campaigns", "migration.audit_logs",
]
# Tenant tables that reach iam.tenants through their parent's key, which carries tenant_id (0091: a leg's tenant is
# its header's): table → (its columns, the parent); the parent references iam.tenants ON DELETE RESTRICT itself.
TENANT_THROUGH_PARENT = {"finanzas.ledger_entries": ("transaction_id, tenant_id, currency", "finanzas.transactions")}
# Functions a CHECK constraint calls (0092): PUBLIC may execute them (whoever may INSERT runs the CHECK); pure tests of
# their arguments, not the API.
CHECK_FUNCTIONS = {"events.event_store_row_is_valid(p_stream_id text, p_stream_type text, p_event_type text, "
                   "p_payload jsonb, p_metadata jsonb)",
                   "finanzas.ledger_entry_is_valid(p_account_type text, p_amount numeric, p_direction smallint, "
                   "p_currency text)",
                   "finanzas.transaction_is_valid(p_id uuid, p_currency text, p_description text, "
                   "p_reverses_transaction_id uuid)"}
# sys.schema_upgrades is the schema history (no tenant: written only by 000_master_migration.sql).
TABLES = ["iam.tenants", "sys.schema_upgrades", *TENANT_TABLES]
VIEWS = ["finanzas.account_balances", "gobernanza.active_policies", "sys.active_sagas", "events.stream_summary"]
APP_SCHEMAS = ["iam", "finanzas", "stock", "gobernanza", "sys", "events"]
PINNED = "pg_catalog, pg_temp"

# Every function leadboost_app may execute, with its identity arguments and result, and whether it is a
# SECURITY DEFINER function (those write on the caller's behalf and pin search_path).
PUBLIC_API = [
    ("iam", "current_tenant_id", "", "uuid", False),
    ("finanzas", "post_transaction",
     "p_tenant_id uuid, p_legs jsonb, p_currency text, p_description text, p_transaction_id uuid", "uuid", True),
    ("finanzas", "reverse_transaction", "p_tenant_id uuid, p_transaction_id uuid, p_description text", "uuid", True),
    ("stock", "reserve_inventory", "p_tenant_id uuid, p_sku text, p_quantity integer, p_expected_version integer",
     "TABLE(success boolean, reason text, current_version integer, quantity_on_hand integer, "
     "quantity_reserved integer)", True),
    ("stock", "release_inventory", "p_tenant_id uuid, p_sku text, p_quantity integer, p_expected_version integer",
     "TABLE(success boolean, reason text, current_version integer, quantity_on_hand integer, "
     "quantity_reserved integer)", True),
    ("gobernanza", "validate_action",
     "p_tenant_id uuid, p_action text, p_amount numeric, p_now timestamp with time zone",
     "TABLE(allowed boolean, policy_id uuid, reason text)", True),
    ("gobernanza", "record_action_outcome",
     "p_tenant_id uuid, p_action text, p_succeeded boolean, p_now timestamp with time zone",
     "TABLE(policy_id uuid, breaker_state text, failure_count integer)", True),
    ("sys", "claim_request_key",
     "p_tenant_id uuid, p_idempotency_key text, p_payload jsonb, p_lease interval, p_ttl interval, "
     "p_now timestamp with time zone",
     "TABLE(outcome text, lock_token uuid, status text, response jsonb, attempts integer)", True),
    ("sys", "complete_request_key",
     "p_tenant_id uuid, p_idempotency_key text, p_lock_token uuid, p_response jsonb, p_now timestamp with time zone",
     "void", True),
    ("sys", "fail_request_key",
     "p_tenant_id uuid, p_idempotency_key text, p_lock_token uuid, p_error text, p_now timestamp with time zone",
     "void", True),
    ("sys", "start_saga", "p_tenant_id uuid, p_saga_type text, p_steps jsonb, p_payload jsonb, p_saga_id uuid",
     "uuid", True),
    ("sys", "record_step_success", "p_tenant_id uuid, p_saga_id uuid, p_step_index integer, p_result jsonb",
     "TABLE(applied boolean, saga_state text, step_status text, next_step integer, next_compensation_step integer)",
     True),
    ("sys", "record_step_failure", "p_tenant_id uuid, p_saga_id uuid, p_step_index integer, p_error text",
     "TABLE(applied boolean, saga_state text, step_status text, next_step integer, next_compensation_step integer)",
     True),
    ("sys", "record_compensation_done", "p_tenant_id uuid, p_saga_id uuid, p_step_index integer",
     "TABLE(applied boolean, saga_state text, step_status text, next_step integer, next_compensation_step integer)",
     True),
    ("events", "append_event",
     "p_tenant_id uuid, p_stream_id text, p_stream_type text, p_event_type text, p_payload jsonb, "
     "p_expected_version bigint, p_metadata jsonb, p_event_id uuid, p_occurred_at timestamp with time zone",
     "bigint", True),
    ("events", "rehydrate", "p_tenant_id uuid, p_stream_id text, p_up_to_version bigint",
     "TABLE(version bigint, state jsonb)", True),
    ("events", "replay_stream", "p_tenant_id uuid, p_stream_id text, p_up_to_version bigint",
     "TABLE(version bigint, state jsonb)", True),
    ("events", "create_snapshot", "p_tenant_id uuid, p_stream_id text, p_version bigint",
     "TABLE(version bigint, state jsonb)", True),
    ("events", "apply_event", "p_state jsonb, p_event_type text, p_payload jsonb", "jsonb", False),
]
MAINTENANCE = [
    ("sys", "cleanup_expired_request_keys", "p_now timestamp with time zone", "integer"),
    ("events", "cleanup_old_snapshots", "p_keep integer, p_only_tenant_id uuid", "integer"),
    ("migration", "validate_migrated_data", "p_only_tenant_id uuid",
     "TABLE(check_name text, status text, observed bigint, details text)"),
]


def test_exactly_the_seven_schemas(catalog_snapshot):
    assert sorted(catalog_snapshot["schemas"]) == sorted(SCHEMAS)


def test_exactly_the_tables_and_views(catalog_snapshot):
    assert sorted(catalog_snapshot["tables"]) == sorted(TABLES)
    assert sorted(catalog_snapshot["views"]) == sorted(VIEWS)


def test_the_schema_history_table(catalog_snapshot):
    for column, type_ in [("upgrade", "text"), ("release", "text"), ("checksum", "text"), ("how", "text"),
                          ("applied_at", "timestamp with time zone"), ("duration", "interval"),
                          ("applied_by", "text")]:
        col_type(catalog_snapshot, "sys.schema_upgrades", column, type_)
    for column in ("upgrade", "release", "checksum", "how", "applied_at", "applied_by"):
        col_not_null(catalog_snapshot, "sys.schema_upgrades", column)


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_every_tenant_table_references_tenants_on_delete_restrict(catalog_snapshot, table):
    col_type(catalog_snapshot, table, "tenant_id", "uuid")
    col_not_null(catalog_snapshot, table, "tenant_id")
    if table in TENANT_THROUGH_PARENT:
        columns, parent = TENANT_THROUGH_PARENT[table]
        fk_ok(catalog_snapshot, table, columns, parent, ref_columns=columns.replace("transaction_id", "id"),
              on_delete="RESTRICT")
        fk_ok(catalog_snapshot, parent, "tenant_id", "iam.tenants", on_delete="RESTRICT")
    else:
        fk_ok(catalog_snapshot, table, "tenant_id", "iam.tenants", on_delete="RESTRICT")
    rls_enabled(catalog_snapshot, table)
    has_policy(catalog_snapshot, table, "tenant_isolation", "tenant_id = ( SELECT iam.current_tenant_id()")


def test_every_foreign_key_to_tenants_is_restrict(catalog_snapshot):
    to_tenants = [(table, name, fk["on_delete"]) for table, entry in catalog_snapshot["tables"].items()
                  for name, fk in entry["constraints"].items()
                  if fk["type"] == "FOREIGN KEY" and fk["references"] == "iam.tenants"]
    assert len(to_tenants) == len(TENANT_TABLES) - len(TENANT_THROUGH_PARENT)
    assert not {t for t, _, _ in to_tenants} & set(TENANT_THROUGH_PARENT)
    assert [t for t in to_tenants if t[2] != "RESTRICT"] == []


@pytest.mark.parametrize("relation", TABLES + VIEWS)
def test_every_relation_and_column_has_a_comment(catalog_snapshot, relation):
    entry = catalog_snapshot["tables"].get(relation) or catalog_snapshot["views"][relation]
    has_comment(entry, relation)
    for column in entry["columns"]:
        has_comment(column, f"{relation}.{column['name']}")


def test_every_function_schema_and_policy_has_a_comment(catalog_snapshot):
    for signature, function in catalog_snapshot["functions"].items():
        has_comment(function, signature)
    for schema in SCHEMAS:
        has_comment(has_schema(catalog_snapshot, schema), schema)
    for table, entry in catalog_snapshot["tables"].items():
        for name, policy in entry["policies"].items():
            has_comment(policy, f"policy {name} on {table}")


def test_iam_tenants(catalog_snapshot):
    has_pk(catalog_snapshot, "iam.tenants", "id")
    col_default_is(catalog_snapshot, "iam.tenants", "id", "gen_random_uuid()")
    col_not_null(catalog_snapshot, "iam.tenants", "name")
    has_unique(catalog_snapshot, "iam.tenants", "name")
    has_check(catalog_snapshot, "iam.tenants", "status", "'ACTIVE'", "'SUSPENDED'", "'CLOSED'")
    has_check(catalog_snapshot, "iam.tenants", "length(btrim(name))", "200")
    col_type(catalog_snapshot, "iam.tenants", "created_at", "timestamp with time zone")
    rls_enabled(catalog_snapshot, "iam.tenants")
    has_policy(catalog_snapshot, "iam.tenants", "tenant_isolation", "id = ( SELECT iam.current_tenant_id()")


def test_finanzas_ledger(catalog_snapshot):
    table = "finanzas.ledger_entries"
    col_is_identity(catalog_snapshot, table, "id")
    col_type(catalog_snapshot, table, "amount", "numeric(19,4)")
    col_type(catalog_snapshot, table, "direction", "smallint")
    for column in ("tenant_id", "transaction_id", "account_type", "amount", "direction", "currency", "posted_at"):
        col_not_null(catalog_snapshot, table, column)
    has_check(catalog_snapshot, table, "finanzas.ledger_entry_is_valid(account_type, amount, direction, currency)")
    fk_ok(catalog_snapshot, table, "transaction_id, tenant_id, currency", "finanzas.transactions",
          ref_columns="id, tenant_id, currency", on_delete="RESTRICT")
    has_index(catalog_snapshot, table, "ledger_entries_transaction_id_idx", "(transaction_id)")
    has_trigger(catalog_snapshot, table, "ledger_entries_append_only",
                "BEFORE DELETE OR UPDATE OR TRUNCATE", "FOR EACH STATEMENT", "iam.refuse_append_only_change(")
    has_trigger(catalog_snapshot, table, "ledger_entries_transaction_open", "BEFORE INSERT", "FOR EACH ROW")
    # every leg queues its own balance check (issue 17.1), and moves the stored balances (issue 14.1)
    has_trigger(catalog_snapshot, table, "ledger_entries_balanced", "CREATE CONSTRAINT TRIGGER", "AFTER INSERT",
                "DEFERRABLE INITIALLY DEFERRED", "FOR EACH ROW", "check_transaction_balanced()")
    has_trigger(catalog_snapshot, table, "ledger_entries_balances", "AFTER INSERT", "FOR EACH ROW",
                "add_leg_to_balances()")


def test_finanzas_stored_balances(catalog_snapshot):
    table = "finanzas.account_balance_shards"
    has_pk(catalog_snapshot, table, "tenant_id, account_type, currency, shard")
    fk_ok(catalog_snapshot, table, "tenant_id", "iam.tenants", on_delete="RESTRICT")
    rls_enabled(catalog_snapshot, table)
    has_trigger(catalog_snapshot, table, "account_balance_shards_maintained", "BEFORE INSERT OR DELETE OR UPDATE",
                "refuse_direct_balance_change()")
    has_trigger(catalog_snapshot, table, "account_balance_shards_no_truncate", "BEFORE TRUNCATE",
                "refuse_direct_balance_change()")


def test_finanzas_transactions(catalog_snapshot):
    table = "finanzas.transactions"
    has_pk(catalog_snapshot, table, "tenant_id, id")  # ids are scoped to the tenant (issue 17.6)
    has_unique(catalog_snapshot, table, "id, tenant_id, currency")
    has_unique(catalog_snapshot, table, "tenant_id, reverses_transaction_id")
    fk_ok(catalog_snapshot, table, "tenant_id, reverses_transaction_id", "finanzas.transactions",
          ref_columns="tenant_id, id", on_delete="RESTRICT")
    col_is_null(catalog_snapshot, table, "description")
    has_check(catalog_snapshot, table, "finanzas.transaction_is_valid(id, currency, description, reverses_transaction_id)")
    has_trigger(catalog_snapshot, table, "transactions_balanced", "CREATE CONSTRAINT TRIGGER", "AFTER INSERT",
                "DEFERRABLE INITIALLY DEFERRED", "check_transaction_balanced()")
    has_trigger(catalog_snapshot, table, "transactions_append_only",
                "BEFORE DELETE OR UPDATE OR TRUNCATE", "FOR EACH STATEMENT")
    has_trigger(catalog_snapshot, table, "transactions_stamp_xid", "BEFORE INSERT")
    col_type(catalog_snapshot, table, "created_xid", "xid8")


def test_stock_inventory(catalog_snapshot):
    table = "stock.inventory_items"
    has_unique(catalog_snapshot, table, "tenant_id, sku")
    col_type(catalog_snapshot, table, "version", "integer")
    col_default_is(catalog_snapshot, table, "version", "1")
    for column in ("sku", "quantity_on_hand", "quantity_reserved", "version"):
        col_not_null(catalog_snapshot, table, column)
    has_check(catalog_snapshot, table, "quantity_on_hand >= 0")
    has_check(catalog_snapshot, table, "quantity_reserved >= 0")
    has_check(catalog_snapshot, table, "quantity_reserved <= quantity_on_hand")
    has_check(catalog_snapshot, table, "version >= 1")
    has_check(catalog_snapshot, table, "sku ~")
    has_trigger(catalog_snapshot, table, "inventory_items_version", "BEFORE UPDATE", "FOR EACH ROW",
                "bump_inventory_version()")


def test_gobernanza_policies(catalog_snapshot):
    table = "gobernanza.policies"
    has_unique(catalog_snapshot, table, "tenant_id, name")
    has_check(catalog_snapshot, table, "policy_type", "'SPEND_LIMIT'", "'RATE_LIMIT'", "'CIRCUIT_BREAKER'",
              "'KILL_SWITCH'")
    has_check(catalog_snapshot, table, "breaker_state", "'CLOSED'", "'OPEN'", "'HALF_OPEN'")
    has_check(catalog_snapshot, table, "priority >= 0", "priority <= 10000")
    has_check(catalog_snapshot, table, "valid_until > valid_from")
    has_check(catalog_snapshot, table, "limit_value > ")
    has_check(catalog_snapshot, table, "CASE policy_type")
    col_default_is(catalog_snapshot, table, "is_active", "true")
    has_index(catalog_snapshot, table, "policies_tenant_action_idx", "(tenant_id, action)", "WHERE is_active")


def test_sys_request_keys(catalog_snapshot):
    table = "sys.request_keys"
    has_pk(catalog_snapshot, table, "tenant_id, idempotency_key")
    has_check(catalog_snapshot, table, "status", "'PROCESSING'", "'COMPLETED'", "'FAILED'")
    has_check(catalog_snapshot, table, "payload_hash ~", "[0-9a-f]{64}")
    has_check(catalog_snapshot, table, "lease_expires_at > locked_at")
    has_check(catalog_snapshot, table, "expires_at > created_at")
    for column in ("payload_hash", "status", "lock_token", "lease_expires_at", "attempts", "expires_at"):
        col_not_null(catalog_snapshot, table, column)
    col_type(catalog_snapshot, table, "response", "jsonb")
    has_index(catalog_snapshot, table, "request_keys_expires_at_idx", "(expires_at)")


def test_sys_sagas(catalog_snapshot):
    has_check(catalog_snapshot, "sys.sagas", "state", "'RUNNING'", "'COMPENSATING'", "'COMPLETED'", "'FAILED'")
    has_check(catalog_snapshot, "sys.sagas", "completed_at IS NOT NULL")
    col_is_null(catalog_snapshot, "sys.sagas", "completed_at")
    has_trigger(catalog_snapshot, "sys.sagas", "sagas_state_transition", "BEFORE UPDATE", "FOR EACH ROW")
    has_pk(catalog_snapshot, "sys.sagas", "tenant_id, id")
    has_pk(catalog_snapshot, "sys.saga_steps", "tenant_id, saga_id, step_index")
    has_unique(catalog_snapshot, "sys.saga_steps", "tenant_id, saga_id, step_name")
    fk_ok(catalog_snapshot, "sys.saga_steps", "tenant_id, saga_id", "sys.sagas", ref_columns="tenant_id, id",
          on_delete="CASCADE")
    has_check(catalog_snapshot, "sys.saga_steps", "status", "'PENDING'", "'SUCCEEDED'", "'FAILED'", "'COMPENSATED'")
    has_trigger(catalog_snapshot, "sys.saga_steps", "saga_steps_status_transition", "BEFORE UPDATE")


def test_events_event_store(catalog_snapshot):
    table = "events.event_store"
    has_pk(catalog_snapshot, table, "global_position")
    col_type(catalog_snapshot, table, "global_position", "bigint")
    col_is_identity(catalog_snapshot, table, "global_position")
    has_unique(catalog_snapshot, table, "tenant_id, event_id")
    has_unique(catalog_snapshot, table, "tenant_id, stream_id, version")
    for column in ("event_id", "stream_id", "stream_type", "version", "event_type", "payload", "metadata",
                   "occurred_at"):
        col_not_null(catalog_snapshot, table, column)
    col_type(catalog_snapshot, table, "version", "bigint")
    has_check(catalog_snapshot, table, "events.event_store_row_is_valid(stream_id, stream_type, event_type, payload, "
              "metadata)")
    has_check(catalog_snapshot, table, "version >= 1")
    has_index(catalog_snapshot, table, "event_store_stream_version_key", "(tenant_id, stream_id, version)")
    has_index(catalog_snapshot, table, "event_store_stream_type_occurred_at_idx", "(stream_type, occurred_at DESC)")
    has_index(catalog_snapshot, table, "event_store_pkey", "(global_position)")
    has_trigger(catalog_snapshot, table, "event_store_append_only", "BEFORE DELETE OR UPDATE OR TRUNCATE",
                "FOR EACH STATEMENT")
    has_trigger(catalog_snapshot, table, "event_store_version", "BEFORE INSERT", "FOR EACH ROW")


def test_events_snapshots(catalog_snapshot):
    has_pk(catalog_snapshot, "events.snapshots", "tenant_id, stream_id, version")
    fk_ok(catalog_snapshot, "events.snapshots", "tenant_id, stream_id, version", "events.event_store",
          ref_columns="tenant_id, stream_id, version", on_delete="RESTRICT")
    has_trigger(catalog_snapshot, "events.snapshots", "snapshots_state", "BEFORE INSERT")
    has_trigger(catalog_snapshot, "events.snapshots", "snapshots_immutable", "BEFORE UPDATE")


@pytest.mark.parametrize("table", ["migration.raw_signals", "migration.campaigns", "migration.audit_logs",
                                   "migration.batch_control"])
def test_migration_firebase_id_is_the_idempotency_key(catalog_snapshot, table):
    col_not_null(catalog_snapshot, table, "firebase_id")
    has_unique(catalog_snapshot, table, "firebase_id")
    has_check(catalog_snapshot, table, "length(firebase_id)", "1500")
    if table != "migration.batch_control":
        fk_ok(catalog_snapshot, table, "batch_id", "migration.batch_control", on_delete="RESTRICT")


def test_migration_enumerations(catalog_snapshot):
    has_check(catalog_snapshot, "migration.batch_control", "collection", "'raw_signals'", "'campaigns'",
              "'audit_logs'")
    has_check(catalog_snapshot, "migration.batch_control", "phase", "'A_DUAL_WRITE'", "'D_KILL_SWITCH'")
    has_check(catalog_snapshot, "migration.batch_control", "status", "'PENDING'", "'RUNNING'", "'COMPLETED'")
    has_check(catalog_snapshot, "migration.campaigns", "status", "'DRAFT'", "'ACTIVE'", "'ARCHIVED'")
    has_check(catalog_snapshot, "migration.campaigns", "budget >= ")


@pytest.mark.parametrize("view", VIEWS)
def test_views_filter_by_the_caller(catalog_snapshot, view):
    assert "security_invoker=true" in has_view(catalog_snapshot, view)["options"]
    privileges_are(has_view(catalog_snapshot, view), "leadboost_app", {"SELECT"})


def test_view_columns(catalog_snapshot):
    has_column(catalog_snapshot, "finanzas.account_balances", "balance")
    has_column(catalog_snapshot, "gobernanza.active_policies", "consumed_in_window")
    has_column(catalog_snapshot, "sys.active_sagas", "next_compensation_step")
    has_column(catalog_snapshot, "events.stream_summary", "current_version")
    has_column(catalog_snapshot, "events.stream_summary", "latest_snapshot_version")


@pytest.mark.parametrize(("schema", "name", "args", "result", "definer"), PUBLIC_API,
                         ids=[f"{s}.{n}" for s, n, *_ in PUBLIC_API])
def test_public_function(catalog_snapshot, schema, name, args, result, definer):
    function_returns(catalog_snapshot, schema, name, args, result)
    privileges_are(has_function(catalog_snapshot, schema, name, args), "leadboost_app", {"EXECUTE"})
    privileges_are(has_function(catalog_snapshot, schema, name, args), "PUBLIC", set())
    if definer:
        is_definer(catalog_snapshot, schema, name, args)
        search_path_is(catalog_snapshot, schema, name, args, PINNED)


@pytest.mark.parametrize(("schema", "name", "args", "result"), MAINTENANCE, ids=[n for _, n, *_ in MAINTENANCE])
def test_maintenance_function_runs_with_the_callers_rights(catalog_snapshot, schema, name, args, result):
    function_returns(catalog_snapshot, schema, name, args, result)
    assert not has_function(catalog_snapshot, schema, name, args)["security_definer"]
    privileges_are(has_function(catalog_snapshot, schema, name, args), "leadboost_app", set())


def test_every_security_definer_function_pins_search_path(catalog_snapshot):
    definers = {s: f["config"] for s, f in catalog_snapshot["functions"].items() if f["security_definer"]}
    assert len(definers) >= len([api for api in PUBLIC_API if api[4]])
    assert {s: c for s, c in definers.items() if f"search_path={PINNED}" not in c} == {}


def test_only_the_public_api_is_executable_by_the_app_or_public(catalog_snapshot):
    executable = {s for s, f in catalog_snapshot["functions"].items()
                  if any(g.split(":")[0] in ("leadboost_app", "PUBLIC") for g in f["grants"])}
    expected = {f"{schema}.{name}({args})" for schema, name, args, *_ in PUBLIC_API}
    assert executable - CHECK_FUNCTIONS == expected
    for signature in CHECK_FUNCTIONS:
        function = catalog_snapshot["functions"][signature]
        assert (function["grants"], function["security_definer"], function["volatility"], function["config"]) == (
            ["PUBLIC:EXECUTE"], False, "IMMUTABLE", []), signature


def test_leadboost_app_least_privilege(catalog_snapshot):
    role = catalog_snapshot["roles"]["leadboost_app"]
    assert (role["login"], role["superuser"], role["bypassrls"], role["createrole"], role["createdb"]) == (
        False, False, False, False, False)
    for schema in APP_SCHEMAS:
        privileges_are(has_schema(catalog_snapshot, schema), "leadboost_app", {"USAGE"})
    privileges_are(has_schema(catalog_snapshot, "migration"), "leadboost_app", set())
    for table in TABLES:
        expected = set() if table.startswith("migration.") else {"SELECT"}
        privileges_are(has_table(catalog_snapshot, table), "leadboost_app", expected)
        privileges_are(has_table(catalog_snapshot, table), "PUBLIC", set())
    for sequence in catalog_snapshot["sequences"].values():
        privileges_are(sequence, "leadboost_app", set())


def test_nothing_is_owned_by_anyone_but_the_migration_role(catalog_snapshot):
    for kind in ("schemas", "tables", "views", "sequences", "functions"):
        assert {name for name, e in catalog_snapshot[kind].items() if e["owner"] != "<owner>"} == set(), kind

"""Bad rows for every table a client may write (the owner, the ETL, or leadboost_app after the troubleshooting
grants), as data: a valid base row per table, and classes of bad values, each a Hypothesis strategy of column
overrides with the documented refusal — derived from the catalog contract where the catalog says enough (NOT NULL
columns, foreign keys, unique keys), and a hand-written violating value for every CHECK constraint (a new constraint
without one fails ``test_every_constraint_has_a_bad_row``).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from contracts.bad_calls import Refused, World, non_object_json
from leadboost_schema.catalog.snapshot import load_contract

CONTRACT = load_contract()
# Written only by 000_master_migration.sql (the schema history), never by the application: no bad rows to offer.
BOOKKEEPING = {"sys.schema_upgrades"}
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
# Set by BEFORE INSERT triggers whatever the INSERT says (an explicit NULL is filled in, not refused).
TRIGGER_FILLED = {("finanzas.transactions", "created_xid"), ("events.snapshots", "state")}
HEADER = uuid.UUID("00000000-0000-4000-8000-00000000ead0")  # the open posting a bad leg joins (made in setup)
# Tables no client writes at all: only the schema's own triggers do, and every direct write is refused whatever the
# row (contracts/test_ledger_balances.py). The bad-row classes cover the tables a client may write.
MAINTAINED_TABLES = frozenset({"finanzas.account_balance_shards"})
WRITABLE_TABLES = {name: spec for name, spec in CONTRACT["tables"].items()
                   if name not in MAINTAINED_TABLES | BOOKKEEPING}


@dataclass(frozen=True)
class BadRow:
    """A class of bad rows for ``table``: the base row with ``values(world)`` drawn over it, and its refusal.
    ``constraints``: the constraint names the error may report (PostgreSQL reports the first one it checks)."""

    label: str
    table: str
    values: Callable[[World], st.SearchStrategy[dict[str, Any]]]
    expect: Refused
    constraints: frozenset[str] = field(default_factory=frozenset)


def _columns(table: str) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in CONTRACT["tables"][table]["columns"]}


def sql_type(table: str, column: str) -> str:
    return _columns(table)[column]["type"]


def base_row(table: str, world: World, token: str) -> dict[str, Any]:
    """A row the table accepts (``token`` keeps unique columns unique), for tenant A."""
    a = world.a.tenant_id
    rows: dict[str, dict[str, Any]] = {
        "iam.tenants": {"id": uuid.uuid4(), "name": f"tenant {token}", "status": "ACTIVE"},
        "finanzas.transactions": {"id": uuid.uuid4(), "tenant_id": a, "currency": "EUR", "description": "x"},
        "finanzas.ledger_entries": {"tenant_id": a, "transaction_id": HEADER, "account_type": "CASH", "amount": 1,
                                    "direction": 1, "currency": "EUR"},
        "stock.inventory_items": {"tenant_id": a, "sku": f"BAD-{token}", "name": "x", "quantity_on_hand": 5,
                                  "quantity_reserved": 1},
        "gobernanza.policies": {"tenant_id": a, "name": f"p-{token}", "policy_type": "SPEND_LIMIT",
                                "action": "ads.spend", "limit_value": 10, "window_seconds": 60},
        "sys.request_keys": {"tenant_id": a, "idempotency_key": f"k-{token}", "payload_hash": "0" * 64,
                             "status": "PROCESSING", "lock_token": uuid.uuid4(), "locked_at": NOW,
                             "lease_expires_at": NOW + HOUR, "created_at": NOW, "expires_at": NOW + 24 * HOUR},
        "sys.sagas": {"tenant_id": a, "saga_type": "order.place", "step_count": 2, "payload": {}},
        "sys.saga_steps": {"saga_id": world.a.saga_running, "tenant_id": a, "step_index": 4, "step_name": "extra"},
        "events.event_store": {"tenant_id": a, "stream_id": f"s-{token}", "stream_type": "ACCOUNT", "version": 1,
                               "event_type": "Opened", "payload": {}, "metadata": {}},
        "events.snapshots": {"tenant_id": a, "stream_id": "stream-1", "version": 2, "state": {"balance": 5}},
        "migration.batch_control": {"tenant_id": a, "firebase_id": f"fb-{token}", "collection": "raw_signals",
                                    "status": "PENDING"},
        "migration.raw_signals": {"tenant_id": a, "firebase_id": f"fb-{token}", "signal_type": "web.visit",
                                  "payload": {}},
        "migration.campaigns": {"tenant_id": a, "firebase_id": f"fb-{token}", "name": "c", "status": "DRAFT"},
        "migration.audit_logs": {"tenant_id": a, "firebase_id": f"fb-{token}", "actor": "u", "action": "a",
                                 "occurred_at": NOW},
    }
    return rows[table]


# --- value strategies ---------------------------------------------------------------------------------------------

def too_long(maximum: int) -> st.SearchStrategy[str]:
    return st.integers(maximum + 1, maximum + 40).map(lambda n: "a" * n)


def length_outside(maximum: int) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), too_long(maximum))


def not_matching(pattern: str, maximum: int | None = None) -> st.SearchStrategy[str]:
    chars = st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00")
    bad = st.text(chars, min_size=1, max_size=12).filter(lambda s: not re.fullmatch(pattern, s))
    return st.one_of(bad, too_long(maximum).map(lambda s: "A" + s.upper())) if maximum else bad


def not_in(*allowed: str) -> st.SearchStrategy[str]:
    return st.text(string.ascii_letters + "_ ", min_size=1, max_size=15).filter(lambda s: s not in allowed)


def below(limit: int) -> st.SearchStrategy[int]:
    return st.integers(-2**31, limit - 1)


def outside(low: int, high: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(-2**31, low - 1), st.integers(high + 1, 2**31 - 1))


def one(column: str, values: st.SearchStrategy[Any]) -> Callable[[World], st.SearchStrategy[dict[str, Any]]]:
    return lambda w: values.map(lambda v: {column: v})


def fixed(**overrides: Any) -> Callable[[World], st.SearchStrategy[dict[str, Any]]]:
    return lambda w: st.just(overrides)


def many(**strategies: st.SearchStrategy[Any]) -> Callable[[World], st.SearchStrategy[dict[str, Any]]]:
    return lambda w: st.fixed_dictionaries(strategies)


_non_object = non_object_json()
_FIREBASE = st.one_of(length_outside(1500), st.text(string.ascii_letters, max_size=8).map(lambda s: f"{s}/x"))
ACTION = r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*)$"

# A violating value for every CHECK constraint: constraint → (column overrides, other constraints the same
# values also break and PostgreSQL may report first — CHECKs are tested in name order, BEFORE triggers before any).
_Check = tuple[Callable[[World], st.SearchStrategy[dict[str, Any]]], Refused | None]
CHECKS: dict[str, _Check | dict[str, _Check]] = {
    # one CHECK (events.event_store_row_is_valid) for the five value rules of an event row: a class per rule
    "event_store_row_check": {
        "event_type": (one("event_type", not_matching(r"[A-Za-z][A-Za-z0-9_.]*", 100)), None),
        "metadata": (one("metadata", _non_object), None),
        "payload": (one("payload", _non_object), None),
        "stream_id": (one("stream_id", not_matching(r"[A-Za-z0-9][A-Za-z0-9:._/-]*", 200)), None),
        "stream_type": (one("stream_type", not_matching(r"[A-Z][A-Z0-9_]*", 64)), None)},
    # the version trigger (LB601) sees a version below 1 before the CHECK can
    "event_store_version_check": (one("version", st.integers(-2**62, 0)),
                                  Refused("LB601", "the next event must be version 1")),
    # the snapshot trigger (LB606) compares the state with the replay before the CHECK can
    "snapshots_state_check": (one("state", _non_object),
                              Refused("LB606", "does not equal the replayed state")),
    # one CHECK per ledger table (finanzas.ledger_entry_is_valid, finanzas.transaction_is_valid): a class per rule
    "ledger_entries_row_check": {
        "account_type": (one("account_type", not_in("CASH", "BANK", "ACCOUNTS_RECEIVABLE", "ACCOUNTS_PAYABLE",
                                                    "CUSTOMER_CREDIT", "REVENUE", "AD_SPEND", "EXPENSE",
                                                    "TAX_PAYABLE", "EQUITY", "SUSPENSE")), None),
        "amount": (one("amount", st.integers(-10**9, 0)), None),
        "currency": (one("currency", not_matching(r"[A-Z]{3}")), None),
        "direction": (one("direction", st.integers(-5, 5).filter(lambda d: d not in (1, -1))), None)},
    "transactions_row_check": {
        "currency": (one("currency", not_matching(r"[A-Z]{3}")), None),
        "description": (one("description", length_outside(500)), None),
        "self-reversal": (lambda w: st.uuids(version=4).map(lambda u: {"id": u, "reverses_transaction_id": u}),
                          None)},
    "policies_action_check": (one("action", not_matching(ACTION, 100)), None),
    "policies_breaker_state_check": (one("breaker_state", not_in("CLOSED", "OPEN", "HALF_OPEN")), None),
    "policies_cooldown_seconds_check": (one("cooldown_seconds", outside(1, 2592000)), None),
    "policies_description_check": (one("description", length_outside(500)), None),
    "policies_failure_count_check": (one("failure_count", below(0)), None),
    "policies_failure_threshold_check": (one("failure_threshold", outside(1, 1000)), None),
    "policies_limit_value_check": (one("limit_value", st.integers(-10**9, 0)), None),
    "policies_name_check": (one("name", length_outside(100)), None),
    "policies_policy_type_check": (one("policy_type", not_in("SPEND_LIMIT", "RATE_LIMIT", "CIRCUIT_BREAKER",
                                                              "KILL_SWITCH")), None),
    "policies_priority_check": (one("priority", outside(0, 10000)), None),
    "policies_shape_check": (lambda w: st.sampled_from([
        {"window_seconds": None}, {"policy_type": "RATE_LIMIT", "limit_value": 2.5},
        {"policy_type": "KILL_SWITCH"}, {"policy_type": "CIRCUIT_BREAKER", "limit_value": None,
                                         "window_seconds": None}]), None),
    "policies_validity_check": (lambda w: st.integers(0, 10**6).map(
        lambda s: {"valid_from": NOW, "valid_until": NOW - dt.timedelta(seconds=s)}), None),
    "policies_window_consumed_check": (one("window_consumed", st.integers(-10**9, -1)), None),
    "policies_window_seconds_check": (one("window_seconds", outside(1, 31622400)), None),
    "tenants_name_check": (one("name", st.one_of(length_outside(200), st.text(
        string.ascii_letters, min_size=1, max_size=5).map(lambda s: f" {s}"), st.just("   "))), None),
    "tenants_status_check": (one("status", not_in("ACTIVE", "SUSPENDED", "CLOSED")), None),
    "audit_logs_action_check": (one("action", length_outside(100)), None),
    "audit_logs_actor_check": (one("actor", length_outside(200)), None),
    "audit_logs_details_check": (one("details", _non_object), None),
    "audit_logs_entity_id_check": (one("entity_id", length_outside(200)), None),
    "audit_logs_entity_type_check": (one("entity_type", length_outside(100)), None),
    "audit_logs_firebase_id_check": (one("firebase_id", _FIREBASE), None),
    "batch_control_collection_check": (one("collection", not_in("raw_signals", "campaigns", "audit_logs")), None),
    "batch_control_error_check": (one("error", length_outside(2000)), None),
    "batch_control_expected_count_check": (one("expected_count", below(0)), None),
    "batch_control_finished_check": (lambda w: st.sampled_from([
        {"status": "COMPLETED", "started_at": NOW}, {"status": "RUNNING", "started_at": NOW, "finished_at": NOW}]),
        None),
    "batch_control_firebase_id_check": (one("firebase_id", _FIREBASE), None),
    "batch_control_order_check": (lambda w: st.integers(1, 10**6).map(lambda s: {
        "status": "COMPLETED", "started_at": NOW, "finished_at": NOW - dt.timedelta(seconds=s)}), None),
    "batch_control_phase_check": (one("phase", not_in("A_DUAL_WRITE", "B_BACKFILL", "C_READ_THROUGH",
                                                      "D_KILL_SWITCH")), None),
    "batch_control_processed_count_check": (one("processed_count", below(0)), None),
    "batch_control_resume_cursor_check": (one("resume_cursor", length_outside(1500)), None),
    "batch_control_started_check": (fixed(status="RUNNING"), None),
    "batch_control_status_check": (lambda w: not_in("PENDING", "RUNNING", "COMPLETED", "FAILED").map(
        lambda s: {"status": s, "started_at": NOW}), None),
    "campaigns_budget_check": (lambda w: st.integers(-10**9, -1).map(lambda b: {"budget": b, "currency": "EUR"}),
                               None),
    "campaigns_budget_currency_check": (fixed(budget=10, currency=None), None),
    "campaigns_currency_check": (one("currency", not_matching(r"[A-Z]{3}")), None),
    "campaigns_firebase_id_check": (one("firebase_id", _FIREBASE), None),
    "campaigns_name_check": (one("name", length_outside(200)), None),
    "campaigns_payload_check": (one("payload", _non_object), None),
    "campaigns_status_check": (one("status", not_in("DRAFT", "ACTIVE", "PAUSED", "COMPLETED", "ARCHIVED")), None),
    "raw_signals_firebase_id_check": (one("firebase_id", _FIREBASE), None),
    "raw_signals_payload_check": (one("payload", _non_object), None),
    "raw_signals_signal_type_check": (one("signal_type", not_matching(r"[a-z][a-z0-9_.]*", 100)), None),
    "inventory_items_name_check": (one("name", length_outside(200)), None),
    "inventory_items_quantity_on_hand_check": (one("quantity_on_hand", below(0)), None),
    "inventory_items_quantity_reserved_check": (one("quantity_reserved", below(0)), None),
    "inventory_items_reserved_within_on_hand_check": (lambda w: st.integers(0, 10**6).flatmap(
        lambda n: st.integers(n + 1, n + 100).map(lambda r: {"quantity_on_hand": n, "quantity_reserved": r})), None),
    "inventory_items_sku_check": (one("sku", not_matching(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", 64)), None),
    "inventory_items_version_check": (one("version", below(1)), None),
    "request_keys_attempts_check": (one("attempts", below(1)), None),
    "request_keys_completed_at_check": (fixed(completed_at=NOW), None),
    "request_keys_error_check": (fixed(error="boom"), None),
    "request_keys_error_length_check": (lambda w: length_outside(2000).map(
        lambda e: {"status": "FAILED", "completed_at": NOW, "error": e}), None),
    "request_keys_expires_at_check": (lambda w: st.integers(0, 10**6).map(
        lambda s: {"expires_at": NOW - dt.timedelta(seconds=s)}), None),
    "request_keys_idempotency_key_check": (one("idempotency_key", length_outside(255)), None),
    "request_keys_lease_check": (lambda w: st.integers(0, 10**6).map(
        lambda s: {"lease_expires_at": NOW - dt.timedelta(seconds=s)}), None),
    "request_keys_payload_hash_check": (one("payload_hash", not_matching(r"[0-9a-f]{64}")), None),
    "request_keys_response_check": (fixed(response={"ok": True}), None),
    "request_keys_status_check": (lambda w: not_in("PROCESSING", "COMPLETED", "FAILED").map(
        lambda s: {"status": s, "completed_at": NOW}), None),
    "saga_steps_compensated_at_check": (fixed(compensated_at=NOW), None),
    "saga_steps_error_check": (one("error", length_outside(2000)), None),
    "saga_steps_failed_at_check": (fixed(failed_at=NOW), None),
    "saga_steps_status_check": (one("status", not_in("PENDING", "SUCCEEDED", "FAILED", "COMPENSATED")), None),
    "saga_steps_step_index_check": (one("step_index", outside(1, 100)), None),
    "saga_steps_step_name_check": (one("step_name", not_matching(r"[A-Za-z][A-Za-z0-9_.-]{0,99}", 100)), None),
    "saga_steps_succeeded_at_check": (fixed(status="SUCCEEDED"), None),
    "sagas_completed_at_check": (fixed(completed_at=NOW), None),
    "sagas_failed_step_check": (one("failed_step", st.one_of(st.integers(3, 10**6), below(1))), None),
    "sagas_failure_check": (fixed(state="COMPENSATING"), None),
    "sagas_failure_reason_check": (one("failure_reason", length_outside(2000)), None),
    "sagas_payload_check": (one("payload", _non_object), None),
    "sagas_saga_type_check": (one("saga_type", not_matching(r"[A-Za-z][A-Za-z0-9_.-]{0,99}", 100)), None),
    "sagas_state_check": (one("state", not_in("RUNNING", "COMPENSATING", "COMPLETED", "FAILED")), None),
    "sagas_step_count_check": (one("step_count", outside(1, 100)), None),
}


def _constraint_columns(definition: str) -> list[str]:
    inside = re.match(r"(?:UNIQUE|PRIMARY KEY|FOREIGN KEY) \(([^)]*)\)", definition)
    return [c.strip() for c in inside.group(1).split(",")] if inside else []


def unique_keys(table: str) -> dict[str, list[str]]:
    """Unique and primary keys of ``table`` without an identity column: name → columns."""
    return {name: _constraint_columns(c["definition"]) for name, c in CONTRACT["tables"][table]["constraints"].items()
            if c["type"] in ("UNIQUE", "PRIMARY KEY")
            and not any(_identity(table, col) for col in _constraint_columns(c["definition"]))}


def _identity(table: str, column: str) -> bool:
    return bool(_columns(table)[column]["identity"])


def catalog_rows() -> list[BadRow]:
    """The classes the catalog gives: NULL in each NOT NULL column, an unknown key for each foreign key, a copy of
    an existing row's unique key for each unique key, a violating value for each CHECK."""
    found = []
    for table, spec in sorted(WRITABLE_TABLES.items()):
        for name, column in _columns(table).items():
            if column["not_null"] and not column["identity"] and (table, name) not in TRIGGER_FILLED:
                found.append(BadRow(f"NULL {name}", table, fixed(**{name: None}),
                                    Refused("23502", f'null value in column "{name}"')))
        for name, constraint in sorted(spec["constraints"].items()):
            columns = _constraint_columns(constraint["definition"])
            if constraint["type"] == "FOREIGN KEY":
                first = next(c for c in columns if c != "tenant_id") if len(columns) > 1 else columns[0]
                also = {n for n, c in spec["constraints"].items() if c["type"] == "FOREIGN KEY"
                        and first in _constraint_columns(c["definition"])}
                unknown = {"uuid": st.uuids(version=4), "text": st.uuids().map(lambda u: f"nope-{u.hex[:8]}")}.get(
                    sql_type(table, first), st.integers(10**6, 10**9))
                found.append(BadRow(f"an unknown {first} ({name})", table, one(first, unknown),
                                    Refused("23503", "violates foreign key constraint"), frozenset(also)))
            elif constraint["type"] in ("UNIQUE", "PRIMARY KEY") and not any(_identity(table, c) for c in columns):
                expect = Refused("23505", "duplicate key value violates unique constraint")
                if name == "event_store_stream_version_key":  # the version trigger sees the repeat first
                    expect = Refused("LB601", "the next event must be version 3")
                found.append(BadRow(f"a repeated {', '.join(columns)} ({name})", table,
                                    lambda w, cs=tuple(columns): st.just({"__copy__": cs}), expect,
                                    frozenset({name})))
            elif constraint["type"] == "CHECK" and name in CHECKS:
                # A CHECK of several rules (one function call) has a class per rule, each labelled with its rule.
                rules = CHECKS[name] if isinstance(CHECKS[name], dict) else {"": CHECKS[name]}
                for rule, (values, trigger) in rules.items():
                    found.append(BadRow(f"a bad {rule} ({name})" if rule else f"a value {name} refuses", table,
                                        values, trigger or Refused("23514", "violates check constraint"),
                                        frozenset() if trigger else frozenset({name})))
    return found


def domain_rows() -> list[BadRow]:
    """What triggers guard, and postings that cross tenants or currencies."""
    b = lambda w: w.b.tenant_id  # noqa: E731
    return [
        BadRow("a leg of another tenant in a posting", "finanzas.ledger_entries",
               lambda w: st.just({"tenant_id": b(w)}), Refused("23503", "ledger_entries_transaction_fkey"),
               frozenset({"ledger_entries_transaction_fkey"})),
        BadRow("a leg in another currency than its posting", "finanzas.ledger_entries",
               lambda w: st.sampled_from(["USD", "MXN", "GBP"]).map(lambda c: {"currency": c}),
               Refused("23503", "ledger_entries_transaction_fkey"), frozenset({"ledger_entries_transaction_fkey"})),
        BadRow("a leg added to a committed posting", "finanzas.ledger_entries",
               lambda w: st.sampled_from([w.a.posting, w.a.reversal]).map(lambda t: {"transaction_id": t}),
               Refused("LB108", "is already committed: legs cannot be added to it")),
        BadRow("a step of another tenant's saga", "sys.saga_steps", lambda w: st.just({"tenant_id": b(w)}),
               Refused("23503", "saga_steps_saga_fkey"), frozenset({"saga_steps_saga_fkey"})),
        BadRow("an event that skips or repeats a version", "events.event_store",
               lambda w: st.integers(-10**6, 10**6).filter(lambda v: v != 3).map(
                   lambda v: {"stream_id": w.a.stream_id, "version": v}),
               Refused("LB601", "stream stream-1 is at version 2: the next event must be version 3")),
        BadRow("an event of another stream type", "events.event_store",
               lambda w: st.from_regex(r"[A-Z][A-Z0-9_]{0,10}", fullmatch=True).filter(lambda t: t != "ACCOUNT").map(
                   lambda t: {"stream_id": w.a.stream_id, "version": 3, "stream_type": t}),
               Refused("LB604", "stream stream-1 has stream_type ACCOUNT")),
        BadRow("a snapshot that is not the replay", "events.snapshots",
               lambda w: st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=4), st.integers(),
                                         max_size=3).filter(lambda d: d != {"balance": 5}).map(lambda d: {"state": d}),
               Refused("LB606", "snapshot of stream stream-1 at version 2 does not equal the replayed state")),
    ]


def bad_rows() -> list[BadRow]:
    return catalog_rows() + domain_rows()


def column_value(table: str, column: str, value: Any) -> Any:
    """The value as sent: JSON columns get JSON text (a str is raw JSON text already)."""
    if sql_type(table, column) == "jsonb" and value is not None and not isinstance(value, str):
        return json.dumps(value)
    return value


# --- the edges of every range: the last values a bounded CHECK accepts ----------------------------------------------
# The bad rows above sit outside each range; these sit exactly on its edges and must be accepted, so a bound moved by
# one (BETWEEN 1 AND … made BETWEEN 2 AND …, <= 500 made < 500) fails a test. Stated here, not read from the catalog:
# a catalog that moved a bound would otherwise move its own test. Each entry: constraint → rows (base-row overrides)
# that sit on an edge; the context columns make the rest of the row valid (e.g. an error needs a FAILED status).
_BREAKER = {"policy_type": "CIRCUIT_BREAKER", "limit_value": None, "window_seconds": None, "failure_threshold": 5,
            "cooldown_seconds": 60, "breaker_state": "CLOSED"}
_FAILED_KEY = {"status": "FAILED", "completed_at": NOW}
_COMPENSATING = {"state": "COMPENSATING", "failure_reason": "x"}
NEW_SAGA = uuid.UUID("00000000-0000-4000-8000-0000000005a9")


def _lengths(column: str, low: int, high: int, **context: Any) -> list[dict[str, Any]]:
    return [{**context, column: "a" * low}, {**context, column: "a" * high}] if low else [
        {**context, column: "a" * high}]


def _values(column: str, *edges: Any, **context: Any) -> list[dict[str, Any]]:
    return [{**context, column: edge} for edge in edges]


EDGES: dict[str, list[dict[str, Any]]] = {
    "event_store_row_check": [*_lengths("event_type", 0, 100), *_lengths("stream_id", 0, 200),
                              {"stream_type": "A" * 64}],
    "event_store_version_check": _values("version", 1),
    "ledger_entries_row_check": _values("amount", Decimal("0.0001")),
    "transactions_row_check": _lengths("description", 1, 500),
    "policies_action_check": [{"action": "a" * 100}],
    "policies_cooldown_seconds_check": _values("cooldown_seconds", 1, 2592000, **_BREAKER),
    "policies_description_check": _lengths("description", 1, 500),
    "policies_failure_count_check": _values("failure_count", 0, **_BREAKER),
    "policies_failure_threshold_check": _values("failure_threshold", 1, 1000, **_BREAKER),
    "policies_limit_value_check": _values("limit_value", Decimal("0.0001")),
    "policies_name_check": _lengths("name", 1, 100),
    "policies_priority_check": _values("priority", 0, 10000),
    "policies_window_consumed_check": _values("window_consumed", 0),
    "policies_window_seconds_check": _values("window_seconds", 1, 31622400),
    "tenants_name_check": _lengths("name", 1, 200),
    "audit_logs_action_check": _lengths("action", 1, 100),
    "audit_logs_actor_check": _lengths("actor", 1, 200),
    "audit_logs_entity_id_check": _lengths("entity_id", 1, 200, entity_type="x"),
    "audit_logs_entity_type_check": _lengths("entity_type", 1, 100, entity_id="x"),
    "audit_logs_firebase_id_check": _lengths("firebase_id", 1, 1500),
    "batch_control_error_check": _lengths("error", 1, 2000),
    "batch_control_expected_count_check": _values("expected_count", 0),
    "batch_control_firebase_id_check": _lengths("firebase_id", 1, 1500),
    "batch_control_processed_count_check": _values("processed_count", 0),
    "batch_control_resume_cursor_check": _lengths("resume_cursor", 1, 1500),
    "campaigns_budget_check": _values("budget", 0, currency="EUR"),
    "campaigns_firebase_id_check": _lengths("firebase_id", 1, 1500),
    "campaigns_name_check": _lengths("name", 1, 200),
    "raw_signals_firebase_id_check": _lengths("firebase_id", 1, 1500),
    "raw_signals_signal_type_check": _lengths("signal_type", 0, 100),
    "inventory_items_name_check": _lengths("name", 1, 200),
    "inventory_items_quantity_on_hand_check": _values("quantity_on_hand", 0, quantity_reserved=0),
    "inventory_items_quantity_reserved_check": _values("quantity_reserved", 0),
    "inventory_items_reserved_within_on_hand_check": [{"quantity_on_hand": 7, "quantity_reserved": 7}],
    "inventory_items_version_check": _values("version", 1),
    "request_keys_attempts_check": _values("attempts", 1),
    "request_keys_error_length_check": _lengths("error", 1, 2000, **_FAILED_KEY),
    "request_keys_idempotency_key_check": _lengths("idempotency_key", 1, 255),
    "saga_steps_error_check": _lengths("error", 1, 2000),
    # step 1 exists in every saga of the world: the first edge goes into a saga of its own (NEW_SAGA, made first)
    "saga_steps_step_index_check": [{"saga_id": NEW_SAGA, "step_index": 1}, {"step_index": 100}],
    "sagas_failed_step_check": [{**_COMPENSATING, "failed_step": 1}, {**_COMPENSATING, "failed_step": 2}],
    "sagas_failure_reason_check": _lengths("failure_reason", 1, 2000),
    "sagas_step_count_check": _values("step_count", 1, 100),
}
# A CHECK with a numeric bound: what EDGES must cover (the completeness test reads the catalog for this only).
BOUNDED_CHECK = re.compile(r"(?:[<>]=?|BETWEEN)\s*\(?'?-?\d")

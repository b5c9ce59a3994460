"""The schema's hot paths as its users run them, with the index each must use: benchmarked, and plan-checked.

``READS`` are statements a service or projector sends; ``CALLS`` are the public functions on the write and
rehydration paths, whose inner statements (and the foreign-key and trigger queries they cause) are what the
indexes must serve. Each names, per table, the indexes allowed to read it; any other access to a large table
(a sequential scan above all) is a plan regression. Parameters are psycopg named placeholders.
"""
from __future__ import annotations

from dataclasses import dataclass, field

STREAM_KEY = "event_store_stream_version_key"
SNAPSHOT_KEY = "snapshots_pkey"

# Tables that grow with traffic: never read by a sequential scan on a hot path.
LARGE_TABLES = frozenset({"events.event_store", "events.snapshots", "finanzas.transactions",
                          "finanzas.ledger_entries", "stock.inventory_items", "sys.request_keys"})


@dataclass(frozen=True)
class HotQuery:
    """One hot statement: its SQL, who runs it (``app``: leadboost_app bound to the tenant; ``owner``: a
    projector or operator not subject to row-level security) and, per large table it reads, the indexes it may
    read it by (a large table it reads that is not listed is a regression too)."""

    sql: str
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    role: str = "app"


EVENT_COLUMNS = "global_position, event_id, stream_id, version, event_type, payload, metadata, occurred_at"

READS: dict[str, HotQuery] = {
    # One stream in version order, whole.
    "stream_read": HotQuery(
        f"SELECT {EVENT_COLUMNS} FROM events.event_store"
        " WHERE tenant_id = %(tenant)s AND stream_id = %(stream)s ORDER BY version",
        {"events.event_store": (STREAM_KEY,)}),
    # A page of a stream after the version the reader has.
    "stream_page": HotQuery(
        f"SELECT {EVENT_COLUMNS} FROM events.event_store"
        " WHERE tenant_id = %(tenant)s AND stream_id = %(stream)s AND version > %(after_version)s"
        " ORDER BY version LIMIT %(limit)s",
        {"events.event_store": (STREAM_KEY,)}),
    # The head of a stream.
    "latest_event": HotQuery(
        f"SELECT {EVENT_COLUMNS} FROM events.event_store"
        " WHERE tenant_id = %(tenant)s AND stream_id = %(stream)s ORDER BY version DESC LIMIT 1",
        {"events.event_store": (STREAM_KEY,)}),
    # A stream type over a time window, newest first: the document's own index (stream_type, occurred_at DESC).
    "stream_type_window": HotQuery(
        f"SELECT {EVENT_COLUMNS} FROM events.event_store"
        " WHERE stream_type = %(stream_type)s AND occurred_at >= %(since)s AND occurred_at < %(until)s"
        " ORDER BY occurred_at DESC LIMIT %(limit)s",
        {"events.event_store": ("event_store_stream_type_occurred_at_idx",)}, role="owner"),
    # A projector catching up on the whole log from its checkpoint.
    "catch_up": HotQuery(
        f"SELECT tenant_id, {EVENT_COLUMNS} FROM events.event_store"
        " WHERE global_position > %(position)s ORDER BY global_position LIMIT %(limit)s",
        {"events.event_store": ("event_store_pkey",)}, role="owner"),
    # One event by its primary key: the baseline every read is compared with.
    "event_by_position": HotQuery(
        f"SELECT {EVENT_COLUMNS} FROM events.event_store WHERE global_position = %(position)s",
        {"events.event_store": ("event_store_pkey",)}),
    "stream_summary": HotQuery(
        "SELECT * FROM events.stream_summary WHERE tenant_id = %(tenant)s AND stream_id = %(stream)s",
        {"events.event_store": (STREAM_KEY,), "events.snapshots": (SNAPSHOT_KEY,)}),
    # Every stream of one tenant (a dashboard's list).
    "tenant_stream_summary": HotQuery(
        "SELECT * FROM events.stream_summary WHERE tenant_id = %(tenant)s",
        {"events.event_store": (STREAM_KEY,), "events.snapshots": (SNAPSHOT_KEY,)}),
    "account_balances": HotQuery(
        "SELECT * FROM finanzas.account_balances WHERE tenant_id = %(tenant)s",
        {"finanzas.ledger_entries": ("ledger_entries_tenant_account_idx",)}),
}

CALLS: dict[str, HotQuery] = {
    "append_event": HotQuery(
        "SELECT events.append_event(%(tenant)s, %(stream)s, %(stream_type)s, %(event_type)s, %(payload)s,"
        " %(expected_version)s)",
        {"events.event_store": (STREAM_KEY, "event_store_event_id_key")}),
    "rehydrate": HotQuery(
        "SELECT version, state FROM events.rehydrate(%(tenant)s, %(stream)s)",
        {"events.event_store": (STREAM_KEY,), "events.snapshots": (SNAPSHOT_KEY,)}),
    "replay_stream": HotQuery(
        "SELECT version, state FROM events.replay_stream(%(tenant)s, %(stream)s)",
        {"events.event_store": (STREAM_KEY,)}),
    "post_transaction": HotQuery(
        "SELECT finanzas.post_transaction(%(tenant)s, %(legs)s)",
        {"finanzas.transactions": ("transactions_pkey", "transactions_id_tenant_currency_key"),
         "finanzas.ledger_entries": ("ledger_entries_transaction_id_idx",)}),
    "reserve_inventory": HotQuery(
        "SELECT success, reason, current_version FROM stock.reserve_inventory(%(tenant)s, %(sku)s, %(quantity)s,"
        " %(expected_version)s)",
        {"stock.inventory_items": ("inventory_items_tenant_id_sku_key",)}),
    "release_inventory": HotQuery(
        "SELECT success, reason, current_version FROM stock.release_inventory(%(tenant)s, %(sku)s, %(quantity)s,"
        " %(expected_version)s)",
        {"stock.inventory_items": ("inventory_items_tenant_id_sku_key",)}),
    "claim_request_key": HotQuery(
        "SELECT outcome, lock_token FROM sys.claim_request_key(%(tenant)s, %(key)s, %(payload)s)",
        {"sys.request_keys": ("request_keys_pkey",)}),
    "complete_request_key": HotQuery(
        "SELECT sys.complete_request_key(%(tenant)s, %(key)s, %(lock_token)s, %(response)s)",
        {"sys.request_keys": ("request_keys_pkey",)}),
}

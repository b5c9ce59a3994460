"""The schema's hot paths as its users run them, with the indexes each must use: benchmarked and plan-checked.

``READS`` are statements a service or projector sends; ``CALLS`` are the public functions on the write and
rehydration paths, whose inner statements (and the trigger and foreign-key queries they cause) the indexes
must serve. Each names, per large table it reads, the indexes allowed to read it (any other read of a large
table, a sequential scan above all, is a plan regression) and how many rows it may read in all, whatever the
tables' size. Parameters are psycopg named placeholders.
"""
from __future__ import annotations

from dataclasses import dataclass, field

STREAM_KEY = "event_store_stream_version_key"
STREAM_FIRST = "event_store_stream_first_idx"
SNAPSHOT_KEY = "snapshots_pkey"

# Tables that grow with traffic: never read by a sequential scan on a hot path.
LARGE_TABLES = frozenset({"events.event_store", "events.snapshots", "finanzas.transactions",
                          "finanzas.ledger_entries", "stock.inventory_items", "sys.request_keys",
                          "sys.sagas", "sys.saga_steps", "migration.raw_signals"})


@dataclass(frozen=True)
class HotQuery:
    """One hot statement: its SQL; who runs it (``app``: leadboost_app bound to the tenant; ``owner``: a
    projector or operator, not subject to row-level security); per large table it reads, the indexes it may
    read it by (a large table it reads that is not listed is a regression too); and ``reads_at_most``, the
    rows it may read from large tables in all with a page size of 50 (None: it reads what it returns, e.g. a
    whole stream)."""

    sql: str
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    role: str = "app"
    reads_at_most: int | None = None


EVENT_COLUMNS = "global_position, event_id, stream_id, version, event_type, payload, metadata, occurred_at"
_STREAM = {"events.event_store": (STREAM_KEY,)}
_SUMMARY = {"events.event_store": (STREAM_FIRST, STREAM_KEY), "events.snapshots": (SNAPSHOT_KEY,)}

READS: dict[str, HotQuery] = {
    # One stream in version order, whole.
    "stream_read": HotQuery(
        f"SELECT {EVENT_COLUMNS} FROM events.event_store"
        " WHERE tenant_id = %(tenant)s AND stream_id = %(stream)s ORDER BY version", _STREAM),
    # A page of a stream after the version the reader has. Versions are gapless (the version trigger), so the
    # page is exactly the range (after, after + limit]: it reads at most `limit` rows whatever plan the
    # planner picks. "version > after ORDER BY version LIMIT n" does not: for a long stream whose length the
    # planner underestimates (it multiplies the tenant's and the stream's selectivities) it picks a bitmap
    # scan that reads the whole rest of the stream and sorts it, per page (contracts/test_plans.py shows it).
    "stream_page": HotQuery(
        f"SELECT {EVENT_COLUMNS} FROM events.event_store"
        " WHERE tenant_id = %(tenant)s AND stream_id = %(stream)s"
        " AND version > %(after_version)s AND version <= %(after_version)s + %(limit)s ORDER BY version",
        _STREAM, reads_at_most=50),
    # The head of a stream.
    "latest_event": HotQuery(
        f"SELECT {EVENT_COLUMNS} FROM events.event_store"
        " WHERE tenant_id = %(tenant)s AND stream_id = %(stream)s ORDER BY version DESC LIMIT 1", _STREAM,
        reads_at_most=1),
    # A stream type over a time window, newest first: the document's index (stream_type, occurred_at DESC).
    "stream_type_window": HotQuery(
        f"SELECT {EVENT_COLUMNS} FROM events.event_store"
        " WHERE stream_type = %(stream_type)s AND occurred_at >= %(since)s AND occurred_at < %(until)s"
        " ORDER BY occurred_at DESC LIMIT %(limit)s",
        {"events.event_store": ("event_store_stream_type_occurred_at_idx",)}, role="owner", reads_at_most=50),
    # A projector catching up on the whole log from its checkpoint.
    "catch_up": HotQuery(
        f"SELECT tenant_id, {EVENT_COLUMNS} FROM events.event_store"
        " WHERE global_position > %(position)s ORDER BY global_position LIMIT %(limit)s",
        {"events.event_store": ("event_store_pkey",)}, role="owner", reads_at_most=50),
    # One event by its primary key: the baseline every read is compared with.
    "event_by_position": HotQuery(
        f"SELECT {EVENT_COLUMNS} FROM events.event_store WHERE global_position = %(position)s",
        {"events.event_store": ("event_store_pkey",)}, reads_at_most=1),
    # One stream's summary: its first event, its head, its latest snapshot — three rows whatever its length.
    "stream_summary": HotQuery(
        "SELECT * FROM events.stream_summary WHERE tenant_id = %(tenant)s AND stream_id = %(stream)s",
        _SUMMARY, reads_at_most=3),
    # Every stream of one tenant (a dashboard's list): three rows per stream, none per event.
    "tenant_stream_summary": HotQuery(
        "SELECT * FROM events.stream_summary WHERE tenant_id = %(tenant)s", _SUMMARY),
    "account_balances": HotQuery(
        "SELECT * FROM finanzas.account_balances WHERE tenant_id = %(tenant)s",
        {"finanzas.account_balance_shards": ("account_balance_shards_pkey",)}),
}

CALLS: dict[str, HotQuery] = {
    # Reads the stream's head (the function, then the version trigger); the event id only when one is given.
    "append_event": HotQuery(
        "SELECT events.append_event(%(tenant)s, %(stream)s, %(stream_type)s, %(event_type)s, %(payload)s,"
        " %(expected_version)s)",
        {"events.event_store": (STREAM_KEY, "event_store_tenant_id_event_id_key")}, reads_at_most=4),
    # The head, the latest snapshot, the events after it: flat in the stream's length.
    "rehydrate": HotQuery(
        "SELECT version, state FROM events.rehydrate(%(tenant)s, %(stream)s)",
        {**_STREAM, "events.snapshots": (SNAPSHOT_KEY,)}, reads_at_most=60),
    "replay_stream": HotQuery(
        "SELECT version, state FROM events.replay_stream(%(tenant)s, %(stream)s)", _STREAM),
    # The header's own lookups and foreign-key checks, then at COMMIT its legs.
    "post_transaction": HotQuery(
        "SELECT finanzas.post_transaction(%(tenant)s, %(legs)s)",
        {"finanzas.transactions": ("transactions_pkey", "transactions_id_tenant_currency_key"),
         "finanzas.ledger_entries": ("ledger_entries_transaction_id_idx",)}, reads_at_most=10),
    "reserve_inventory": HotQuery(
        "SELECT success, reason, current_version"
        " FROM stock.reserve_inventory(%(tenant)s, %(sku)s, %(quantity)s, %(expected_version)s)",
        {"stock.inventory_items": ("inventory_items_tenant_id_sku_key",)}, reads_at_most=2),
    "release_inventory": HotQuery(
        "SELECT success, reason, current_version"
        " FROM stock.release_inventory(%(tenant)s, %(sku)s, %(quantity)s, %(expected_version)s)",
        {"stock.inventory_items": ("inventory_items_tenant_id_sku_key",)}, reads_at_most=2),
    "claim_request_key": HotQuery(
        "SELECT outcome, lock_token FROM sys.claim_request_key(%(tenant)s, %(key)s, %(payload)s)",
        {"sys.request_keys": ("request_keys_pkey",)}, reads_at_most=2),
    "complete_request_key": HotQuery(
        "SELECT sys.complete_request_key(%(tenant)s, %(key)s, %(lock_token)s, %(response)s)",
        {"sys.request_keys": ("request_keys_pkey",)}, reads_at_most=2),
}

# An operator's reads of ONE tenant (leadboost_schema.bench.growth's probe tenant: 150 active and 50 finished
# sagas of 1–2 steps, 100 streams of 10 events with a snapshot at every version, 10 batches of 100 signals)
# among other tenants' rows: each reads what that tenant holds, by index, never the other tenants' rows — the
# bounds are a small multiple of the tenant's rows (a bitmap read counts twice: index and heap) and below the
# tables' sizes.
OPERATOR_READS: dict[str, HotQuery] = {
    "tenant_active_sagas": HotQuery(
        "SELECT * FROM sys.active_sagas WHERE tenant_id = %(tenant)s",
        {"sys.sagas": ("sagas_tenant_active_idx",),
         "sys.saga_steps": ("saga_steps_pkey", "saga_steps_tenant_id_saga_id_step_name_key")}, reads_at_most=500),
    "tenant_stream_summary": HotQuery(
        "SELECT * FROM events.stream_summary WHERE tenant_id = %(tenant)s", _SUMMARY, reads_at_most=300),
    "validate_migrated_data": HotQuery(
        "SELECT * FROM migration.validate_migrated_data(%(tenant)s)",
        {"migration.raw_signals": ("raw_signals_tenant_id_batch_id_idx", "raw_signals_batch_id_idx")},
        role="owner", reads_at_most=10_000),
    # Rolled back by the test: it deletes.
    "cleanup_old_snapshots": HotQuery(
        "SELECT events.cleanup_old_snapshots(3, %(tenant)s)", {"events.snapshots": (SNAPSHOT_KEY,)},
        role="owner", reads_at_most=2_500),
}

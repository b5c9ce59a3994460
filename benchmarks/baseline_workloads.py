"""The in-run baselines' tables and SQL: bare copies of the schema's tables, the event table layer by layer,
and a pgbench TPC-B-like workload.

Every measured path is reported as a ratio to one of these, measured in the same run on the same server, so
the ratios hold on a noisy shared machine where absolute times do not. All of it lives in schema ``bench`` of
the benchmark database only.
"""
from __future__ import annotations

import random

import psycopg

# Bare tables: the same columns and defaults as the schema's, a primary key and nothing else (no triggers, no
# CHECKs, no foreign keys, no other index, no row-level security).
BARE_TABLES = """
CREATE SCHEMA bench;
CREATE TABLE bench.plain_events (LIKE events.event_store INCLUDING DEFAULTS INCLUDING IDENTITY,
                                 PRIMARY KEY (global_position));
CREATE TABLE bench.plain_transactions (LIKE finanzas.transactions INCLUDING DEFAULTS, PRIMARY KEY (id));
CREATE TABLE bench.plain_ledger_entries (LIKE finanzas.ledger_entries INCLUDING DEFAULTS INCLUDING IDENTITY,
                                         PRIMARY KEY (id));
CREATE TABLE bench.plain_items (LIKE stock.inventory_items INCLUDING DEFAULTS, PRIMARY KEY (tenant_id, sku));
CREATE TABLE bench.plain_request_keys (LIKE sys.request_keys INCLUDING DEFAULTS,
                                       PRIMARY KEY (tenant_id, idempotency_key));
"""

# The event table one layer at a time (test_write_cost_layers.py): its indexes; then its CHECKs and its
# foreign key too.
LAYERED_EVENT_TABLES = """
CREATE TABLE bench.indexed_events (LIKE events.event_store INCLUDING DEFAULTS INCLUDING IDENTITY
                                   INCLUDING INDEXES);
CREATE TABLE bench.constrained_events (LIKE events.event_store INCLUDING DEFAULTS INCLUDING IDENTITY
                                       INCLUDING INDEXES INCLUDING CONSTRAINTS,
                                       FOREIGN KEY (tenant_id) REFERENCES iam.tenants (id));
"""

# pgbench -i at scale 1 (fillfactor 100): 1 branch, 10 tellers, 100 000 accounts.
TPCB_TABLES = """
CREATE TABLE bench.tpcb_branches (bid integer PRIMARY KEY, bbalance integer NOT NULL, filler char(88));
CREATE TABLE bench.tpcb_tellers (tid integer PRIMARY KEY, bid integer NOT NULL, tbalance integer NOT NULL,
                                 filler char(84));
CREATE TABLE bench.tpcb_accounts (aid integer PRIMARY KEY, bid integer NOT NULL, abalance integer NOT NULL,
                                  filler char(84));
CREATE TABLE bench.tpcb_history (tid integer, bid integer, aid integer, delta integer, mtime timestamp,
                                 filler char(22));
INSERT INTO bench.tpcb_branches SELECT 1, 0, NULL;
INSERT INTO bench.tpcb_tellers SELECT t, 1, 0, NULL FROM generate_series(1, 10) AS t;
INSERT INTO bench.tpcb_accounts SELECT a, 1, 0, '' FROM generate_series(1, 100000) AS a;
"""
TPCB_ACCOUNTS, TPCB_TELLERS, TPCB_BRANCHES = 100_000, 10, 1

# pgbench's built-in "TPC-B (sort of)" script, statement for statement, inside BEGIN … END.
TPCB_STATEMENTS = (
    "UPDATE bench.tpcb_accounts SET abalance = abalance + %(delta)s WHERE aid = %(aid)s",
    "SELECT abalance FROM bench.tpcb_accounts WHERE aid = %(aid)s",
    "UPDATE bench.tpcb_tellers SET tbalance = tbalance + %(delta)s WHERE tid = %(tid)s",
    "UPDATE bench.tpcb_branches SET bbalance = bbalance + %(delta)s WHERE bid = %(bid)s",
    ("INSERT INTO bench.tpcb_history (tid, bid, aid, delta, mtime)"
     " VALUES (%(tid)s, %(bid)s, %(aid)s, %(delta)s, CURRENT_TIMESTAMP)"),
)


def insert_event(table: str) -> str:
    """An event's row written directly into ``table``."""
    return f"""
INSERT INTO {table} (tenant_id, stream_id, stream_type, version, event_type, payload)
VALUES (%s, %s, %s, %s, %s, %s)"""


def insert_posting(transactions: str, entries: str) -> str:
    """A posting's rows (a header and its legs) written directly, in one statement as the function call is
    one."""
    return f"""
WITH header AS (INSERT INTO {transactions} (tenant_id, currency) VALUES (%(tenant)s, 'EUR') RETURNING id)
INSERT INTO {entries} (tenant_id, transaction_id, account_type, amount, direction, currency)
SELECT %(tenant)s, header.id, leg.account_type, leg.amount, leg.direction, 'EUR'
  FROM header, jsonb_to_recordset(%(legs)s) AS leg (account_type text, amount numeric, direction smallint)"""


def update_item(table: str) -> str:
    """Reserve (+n) or release (-n) by a plain UPDATE: no expected version, it waits for the row lock."""
    return f"""
UPDATE {table} SET quantity_reserved = quantity_reserved + %s, version = version + 1
 WHERE tenant_id = %s AND sku = %s"""


def insert_key(table: str) -> str:
    """An idempotency key's first claim written directly (its payload hash computed by the caller)."""
    return f"""
INSERT INTO {table} (tenant_id, idempotency_key, payload_hash, status, lock_token, locked_at,
                     lease_expires_at, expires_at)
VALUES (%s, %s, %s, 'PROCESSING', gen_random_uuid(), now(), now() + interval '5 minutes',
        now() + interval '1 day')"""


def complete_key(table: str) -> str:
    return f"""
UPDATE {table} SET status = 'COMPLETED', response = %s, completed_at = now()
 WHERE tenant_id = %s AND idempotency_key = %s"""


def create_baseline_tables(conn: psycopg.Connection, hot_items: list[tuple[object, str]]) -> None:
    """Create schema ``bench`` (owner connection, autocommit), fill what the baselines read or update, grant
    it to leadboost_app (the benchmarks' clients run as that role, like the services do)."""
    with conn.transaction():
        conn.execute(BARE_TABLES)
        conn.execute(LAYERED_EVENT_TABLES)
        conn.execute(TPCB_TABLES)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO bench.plain_items (tenant_id, sku, quantity_on_hand)"
                            " VALUES (%s, %s, %s)",
                            [(tenant, sku, 1_000_000_000) for tenant, sku in hot_items])
        conn.execute("GRANT USAGE ON SCHEMA bench TO leadboost_app;"
                     "GRANT ALL ON ALL TABLES IN SCHEMA bench TO leadboost_app;"
                     "GRANT ALL ON ALL SEQUENCES IN SCHEMA bench TO leadboost_app")
    conn.execute("VACUUM (ANALYZE) bench.tpcb_branches, bench.tpcb_tellers, bench.tpcb_accounts,"
                 " bench.plain_items")


def tpcb_parameters(rng: random.Random) -> dict[str, int]:
    """pgbench's \\set lines for scale 1: random account, teller, branch and delta."""
    return {"aid": rng.randint(1, TPCB_ACCOUNTS), "tid": rng.randint(1, TPCB_TELLERS),
            "bid": rng.randint(1, TPCB_BRANCHES), "delta": rng.randint(-5000, 5000)}


def tpcb_transaction(conn: psycopg.Connection, params: dict[str, int]) -> None:
    """One TPC-B-like transaction as pgbench sends it: BEGIN, five statements, END — seven round trips."""
    with conn.transaction():
        for statement in TPCB_STATEMENTS:
            conn.execute(statement, params)


def tpcb_transaction_pipelined(conn: psycopg.Connection, params: dict[str, int]) -> None:
    """The same transaction in one network round trip (pipeline mode): the stricter comparison for a write
    that is one function call."""
    with conn.pipeline(), conn.transaction():
        for statement in TPCB_STATEMENTS:
            conn.execute(statement, params)

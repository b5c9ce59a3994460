"""Data an upgrade must keep: a few thousand rows in every domain, for several tenants, written through the public
functions where there are any (the tables without one as their owners write them, see ``tenant_rows``).

``fill_release_data(conn)`` calls only what release 1.0.0 already had, with 1.0.0's signatures, so it fills a
database built by any release from 1.0.0 on (the upgrade proofs fill a 1.0.0 database, then upgrade it). Run it as
the schema owner. Names and amounts are fixed; the ids are uuid4s made here.
"""
from __future__ import annotations

import json
import uuid

import psycopg

from leadboost_schema.testing.tenant_rows import make_tenant_rows

ITEMS = 10
STREAMS = 5


def fill_release_data(conn: psycopg.Connection, tenants: int = 3, rounds: int = 100) -> list[uuid.UUID]:
    """``tenants`` tenants, each with ``make_tenant_rows``'s world plus ``rounds`` rounds of postings (one in ten
    reversed), reservations and releases, governance checks, exactly-once keys, sagas, events and snapshots, and
    backfilled rows; one transaction per tenant. Returns the tenant ids."""
    made = []
    for _ in range(tenants):
        with conn.transaction():
            tenant = make_tenant_rows(conn).tenant_id
            _stock(conn, tenant, rounds)
            for n in range(rounds):
                _round(conn, tenant, n)
        made.append(tenant)
    return made


def _stock(conn: psycopg.Connection, tenant: uuid.UUID, rounds: int) -> None:
    conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, name, quantity_on_hand)"
                 " SELECT %s, 'ITEM-' || i, 'Item ' || i, %s FROM generate_series(1, %s) AS i",
                 (tenant, 2 * rounds, ITEMS))


def _round(conn: psycopg.Connection, tenant: uuid.UUID, n: int) -> None:
    amount = 10 + n
    legs = [{"account_type": "CASH", "amount": amount, "direction": 1},
            {"account_type": "REVENUE", "amount": amount - 1, "direction": -1},
            {"account_type": "TAX_PAYABLE", "amount": 1, "direction": -1}]
    currency = "EUR" if n % 3 else "USD"
    posting = conn.execute("SELECT finanzas.post_transaction(%s, %s, %s, %s, %s)",
                           (tenant, json.dumps(legs), currency, f"sale {n}", uuid.uuid4())).fetchone()[0]
    if n % 10 == 0:
        conn.execute("SELECT finanzas.reverse_transaction(%s, %s, 'refund')", (tenant, posting))

    sku = f"ITEM-{n % ITEMS + 1}"
    version = conn.execute("SELECT version FROM stock.inventory_items WHERE tenant_id = %s AND sku = %s",
                           (tenant, sku)).fetchone()[0]
    done = conn.execute("SELECT success, current_version FROM stock.reserve_inventory(%s, %s, 2, %s)",
                        (tenant, sku, version)).fetchone()
    if n % 2 and done[0]:
        conn.execute("SELECT stock.release_inventory(%s, %s, 1, %s)", (tenant, sku, done[1]))

    conn.execute("SELECT gobernanza.validate_action(%s, 'ads.spend', %s)", (tenant, n % 5))
    conn.execute("SELECT gobernanza.validate_action(%s, 'api.call')", (tenant,))
    conn.execute("SELECT gobernanza.record_action_outcome(%s, 'ads.risky', %s)", (tenant, n % 4 != 0))

    key = f"order-{n}"
    token = conn.execute("SELECT lock_token FROM sys.claim_request_key(%s, %s, %s)",
                         (tenant, key, json.dumps({"order": n}))).fetchone()[0]
    if n % 5:
        conn.execute("SELECT sys.complete_request_key(%s, %s, %s, %s)",
                     (tenant, key, token, json.dumps({"ok": n})))

    saga = conn.execute("SELECT sys.start_saga(%s, 'order.place', %s, %s, %s)",
                        (tenant, json.dumps(["reserve", "charge"]), json.dumps({"order": n}),
                         uuid.uuid4())).fetchone()[0]
    conn.execute("SELECT sys.record_step_success(%s, %s, 1)", (tenant, saga))
    if n % 3 == 0:
        conn.execute("SELECT sys.record_step_failure(%s, %s, 2, 'declined')", (tenant, saga))
        conn.execute("SELECT sys.record_compensation_done(%s, %s, 1)", (tenant, saga))

    stream = f"account-{n % STREAMS}"
    head = conn.execute("SELECT count(*) FROM events.event_store WHERE tenant_id = %s AND stream_id = %s",
                        (tenant, stream)).fetchone()[0]
    conn.execute("SELECT events.append_event(%s, %s, 'ACCOUNT', 'Credited', %s, %s)",
                 (tenant, stream, json.dumps({"balance": n, f"k{n % 7}": n}), head))
    if n % 10 == 9:
        conn.execute("SELECT events.create_snapshot(%s, %s)", (tenant, stream))

    prefix = f"fill-{tenant.hex[:12]}-{n}"
    conn.execute("INSERT INTO migration.raw_signals (tenant_id, firebase_id, signal_type, payload)"
                 " VALUES (%s, %s, 'web.visit', %s)", (tenant, f"{prefix}-signal", json.dumps({"n": n})))
    conn.execute("INSERT INTO migration.audit_logs (tenant_id, firebase_id, actor, action, occurred_at)"
                 " VALUES (%s, %s, 'user:ana', 'campaign.update', now())", (tenant, f"{prefix}-audit"))

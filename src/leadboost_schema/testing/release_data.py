"""Data an upgrade must keep: a few thousand rows in every domain, for several tenants, written through the public
functions where there are any (the tables without one as their owners write them, see ``tenant_rows``).

``fill_release_data(conn)`` calls only what release 1.0.0 already had, with 1.0.0's signatures, so it fills a
database built by any release from 1.0.0 on (the upgrade proofs fill a 1.0.0 database, then upgrade it). Run it as
the schema owner. Names and amounts are fixed; the ids are uuid4s made here.

``public_round(call, tenant, n)`` is one round of application calls alone (public functions and the reads the app
role may make), through any ``call(query, params)``: the gate's load check runs it as ``leadboost_app`` in a loop,
timing each call, while an upgrade runs.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import psycopg

from leadboost_schema.testing.tenant_rows import make_tenant_rows

ITEMS = 10
STREAMS = 5

# What runs one statement and returns its cursor: ``conn.execute`` or a wrapper that times it.
Call = Callable[[str, tuple], psycopg.Cursor]


def fill_release_data(conn: psycopg.Connection, tenants: int = 3, rounds: int = 100) -> list[uuid.UUID]:
    """``tenants`` tenants, each with ``make_tenant_rows``'s world plus ``rounds`` rounds of postings (one in ten
    reversed), reservations and releases, governance checks, exactly-once keys, sagas, events and snapshots, and
    backfilled rows; one transaction per tenant. Returns the tenant ids."""
    made = []
    for _ in range(tenants):
        with conn.transaction():
            tenant = release_tenant(conn, rounds)
            for n in range(rounds):
                public_round(conn.execute, tenant, n)
                _backfilled_rows(conn, tenant, n)
        made.append(tenant)
    return made


def release_tenant(conn: psycopg.Connection, rounds: int) -> uuid.UUID:
    """A new tenant with ``make_tenant_rows``'s world and ITEMS items stocked for ``rounds`` rounds (as owner)."""
    tenant = make_tenant_rows(conn).tenant_id
    conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, name, quantity_on_hand)"
                 " SELECT %s, 'ITEM-' || i, 'Item ' || i, %s FROM generate_series(1, %s) AS i",
                 (tenant, 2 * rounds, ITEMS))
    return tenant


def public_round(call: Call, tenant: uuid.UUID, n: int) -> None:
    """Round ``n`` of one tenant's application calls, 1.0.0 signatures only: a posting (one in ten reversed), a
    reservation (every other one half released), governance checks, an exactly-once key, a saga, an event (a
    snapshot every tenth), and a read of each domain's view as the app reads them. Each ``call`` is one statement; the round stops at the first error. Round numbers must
    not repeat for a tenant (keys and streams are named after them)."""
    amount = 10 + n
    legs = [{"account_type": "CASH", "amount": amount, "direction": 1},
            {"account_type": "REVENUE", "amount": amount - 1, "direction": -1},
            {"account_type": "TAX_PAYABLE", "amount": 1, "direction": -1}]
    currency = "EUR" if n % 3 else "USD"
    posting = call("SELECT finanzas.post_transaction(%s, %s, %s, %s, %s)",
                   (tenant, json.dumps(legs), currency, f"sale {n}", uuid.uuid4())).fetchone()[0]
    if n % 10 == 0:
        call("SELECT finanzas.reverse_transaction(%s, %s, 'refund')", (tenant, posting))
    call("SELECT balance FROM finanzas.account_balances WHERE tenant_id = %s AND account_type = 'CASH'", (tenant,))

    sku = f"ITEM-{n % ITEMS + 1}"
    version = call("SELECT version FROM stock.inventory_items WHERE tenant_id = %s AND sku = %s",
                   (tenant, sku)).fetchone()[0]
    done = call("SELECT success, current_version FROM stock.reserve_inventory(%s, %s, 2, %s)",
                (tenant, sku, version)).fetchone()
    if n % 2 and done[0]:
        call("SELECT stock.release_inventory(%s, %s, 1, %s)", (tenant, sku, done[1]))

    call("SELECT gobernanza.validate_action(%s, 'ads.spend', %s)", (tenant, n % 5))
    call("SELECT gobernanza.validate_action(%s, 'api.call')", (tenant,))
    call("SELECT gobernanza.record_action_outcome(%s, 'ads.risky', %s)", (tenant, n % 4 != 0))
    call("SELECT count(*) FROM gobernanza.active_policies WHERE tenant_id = %s", (tenant,))

    key = f"order-{n}"
    token = call("SELECT lock_token FROM sys.claim_request_key(%s, %s, %s)",
                 (tenant, key, json.dumps({"order": n}))).fetchone()[0]
    if n % 5:
        call("SELECT sys.complete_request_key(%s, %s, %s, %s)",
             (tenant, key, token, json.dumps({"ok": n})))

    saga = call("SELECT sys.start_saga(%s, 'order.place', %s, %s, %s)",
                (tenant, json.dumps(["reserve", "charge"]), json.dumps({"order": n}),
                         uuid.uuid4())).fetchone()[0]
    call("SELECT sys.record_step_success(%s, %s, 1)", (tenant, saga))
    if n % 3 == 0:
        call("SELECT sys.record_step_failure(%s, %s, 2, 'declined')", (tenant, saga))
        call("SELECT sys.record_compensation_done(%s, %s, 1)", (tenant, saga))
    call("SELECT count(*) FROM sys.active_sagas WHERE tenant_id = %s", (tenant,))

    stream = f"account-{n % STREAMS}"
    head = call("SELECT count(*) FROM events.event_store WHERE tenant_id = %s AND stream_id = %s",
                (tenant, stream)).fetchone()[0]
    call("SELECT events.append_event(%s, %s, 'ACCOUNT', 'Credited', %s, %s)",
         (tenant, stream, json.dumps({"balance": n, f"k{n % 7}": n}), head))
    if n % 10 == 9:
        call("SELECT events.create_snapshot(%s, %s)", (tenant, stream))
    call("SELECT current_version FROM events.stream_summary WHERE tenant_id = %s AND stream_id = %s",
         (tenant, stream))


def _backfilled_rows(conn: psycopg.Connection, tenant: uuid.UUID, n: int) -> None:
    """Rows the Firebase backfill writes (as owner: the migration tables have no public function)."""
    prefix = f"fill-{tenant.hex[:12]}-{n}"
    conn.execute("INSERT INTO migration.raw_signals (tenant_id, firebase_id, signal_type, payload)"
                 " VALUES (%s, %s, 'web.visit', %s)", (tenant, f"{prefix}-signal", json.dumps({"n": n})))
    conn.execute("INSERT INTO migration.audit_logs (tenant_id, firebase_id, actor, action, occurred_at)"
                 " VALUES (%s, %s, 'user:ana', 'campaign.update', now())", (tenant, f"{prefix}-audit"))

"""A tenant with rows in every tenant table, in every state a test may need, made through the public API where
there is one (policies, stock and the migration tables have none: they are inserted directly, as their owners do).

``make_tenant_rows(conn)`` must run as the schema owner (or a superuser): it writes the tables without a function
directly. Every name it returns is fixed (``SKU-1``, ``stream-1``, ``key-processing`` …), so two tenants' worlds
look alike and differ only in their ids; ids are made here (uuid4), never by the server (no uuid-ossp needed).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import psycopg

from leadboost_schema.testing.factories import make_tenant

LEGS = [{"account_type": "CASH", "amount": 10, "direction": 1},
        {"account_type": "REVENUE", "amount": 10, "direction": -1}]
STEPS = ["reserve", "charge", "ship"]
PAYLOAD = {"order": 1}


@dataclass(frozen=True)
class TenantRows:
    """What ``make_tenant_rows`` made for one tenant (all committed when the connection autocommits)."""

    tenant_id: uuid.UUID
    sku: str                      # 10 on hand, 2 reserved, version 1
    posting: uuid.UUID            # a balanced posting (CASH 10 / REVENUE 10, EUR)
    reversed_posting: uuid.UUID   # a posting that has been reversed
    reversal: uuid.UUID           # its reversal
    stream_id: str                # stream-1, stream_type ACCOUNT: 2 events, snapshot at version 1
    event_id: uuid.UUID           # the stream's first event
    saga_running: uuid.UUID       # 3 steps, step 1 succeeded: RUNNING, next step 2
    saga_compensating: uuid.UUID  # steps 1, 2 succeeded, 3 failed: COMPENSATING, next compensation 2
    saga_completed: uuid.UUID     # 1 step, succeeded: COMPLETED
    saga_failed: uuid.UUID        # 1 step, failed: FAILED
    key_processing: str           # PROCESSING, lease of 5 minutes from creation
    processing_token: uuid.UUID
    key_completed: str            # COMPLETED with response {"ok": true}
    completed_token: uuid.UUID
    key_failed: str               # FAILED
    failed_token: uuid.UUID
    batch_id: uuid.UUID           # a COMPLETED batch of one raw signal
    firebase_prefix: str          # prefix of the tenant's firebase ids (unique across tenants)


def _one(conn: psycopg.Connection, query: str, params: tuple) -> object:
    return conn.execute(query, params).fetchone()[0]


def make_tenant_rows(conn: psycopg.Connection, tenant_id: uuid.UUID | None = None) -> TenantRows:
    """A new tenant (or ``tenant_id``, already in iam.tenants) with a row in every tenant table (see TenantRows)."""
    tenant = tenant_id or make_tenant(conn)
    legs = json.dumps(LEGS)
    steps = json.dumps(STEPS)
    conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, name, quantity_on_hand, quantity_reserved)"
                 " VALUES (%s, 'SKU-1', 'Widget', 10, 2)", (tenant,))
    posting = _one(conn, "SELECT finanzas.post_transaction(%s, %s, 'EUR', 'sale', %s)", (tenant, legs, uuid.uuid4()))
    reversed_posting = _one(conn, "SELECT finanzas.post_transaction(%s, %s, 'EUR', NULL, %s)",
                            (tenant, legs, uuid.uuid4()))
    reversal = _one(conn, "SELECT finanzas.reverse_transaction(%s, %s)", (tenant, reversed_posting))
    event_id = uuid.uuid4()
    conn.execute("SELECT events.append_event(%s, 'stream-1', 'ACCOUNT', 'Opened', '{\"balance\": 0}', 0, '{}', %s)",
                 (tenant, event_id))
    conn.execute("SELECT events.append_event(%s, 'stream-1', 'ACCOUNT', 'Credited', '{\"balance\": 5}', 1)",
                 (tenant,))
    conn.execute("SELECT events.create_snapshot(%s, 'stream-1', 1)", (tenant,))

    def saga(step_names: str) -> uuid.UUID:
        return _one(conn, "SELECT sys.start_saga(%s, 'order.place', %s, %s, %s)",
                    (tenant, step_names, json.dumps(PAYLOAD), uuid.uuid4()))

    running, compensating = saga(steps), saga(steps)
    completed, failed = saga('["only"]'), saga('["only"]')
    conn.execute("SELECT sys.record_step_success(%s, %s, 1)", (tenant, running))
    conn.execute("SELECT sys.record_step_success(%s, %s, 1)", (tenant, compensating))
    conn.execute("SELECT sys.record_step_success(%s, %s, 2)", (tenant, compensating))
    conn.execute("SELECT sys.record_step_failure(%s, %s, 3, 'declined')", (tenant, compensating))
    conn.execute("SELECT sys.record_step_success(%s, %s, 1)", (tenant, completed))
    conn.execute("SELECT sys.record_step_failure(%s, %s, 1, 'declined')", (tenant, failed))

    def claim(key: str) -> uuid.UUID:
        return conn.execute("SELECT lock_token FROM sys.claim_request_key(%s, %s, %s)",
                            (tenant, key, json.dumps(PAYLOAD))).fetchone()[0]

    processing_token, completed_token, failed_token = claim("key-processing"), claim("key-completed"), claim("key-failed")
    conn.execute("SELECT sys.complete_request_key(%s, 'key-completed', %s, '{\"ok\": true}')", (tenant, completed_token))
    conn.execute("SELECT sys.fail_request_key(%s, 'key-failed', %s, 'timeout')", (tenant, failed_token))

    conn.execute(
        "INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, limit_value, window_seconds,"
        " failure_threshold, cooldown_seconds, breaker_state, breaker_changed_at, priority) VALUES"
        " (%(t)s, 'spend', 'SPEND_LIMIT', 'ads.spend', 100, 3600, NULL, NULL, NULL, NULL, 10),"
        " (%(t)s, 'rate', 'RATE_LIMIT', 'api.call', 5, 60, NULL, NULL, NULL, NULL, 20),"
        " (%(t)s, 'breaker', 'CIRCUIT_BREAKER', 'ads.risky', NULL, NULL, 1, 3600, 'OPEN', now(), 30),"
        " (%(t)s, 'kill', 'KILL_SWITCH', 'ads.kill', NULL, NULL, NULL, NULL, NULL, NULL, 0)", {"t": tenant})

    prefix = f"fb-{tenant.hex[:12]}"
    batch_id = uuid.uuid4()
    conn.execute("INSERT INTO migration.batch_control (id, tenant_id, firebase_id, collection, status, expected_count,"
                 " processed_count, started_at, finished_at) VALUES (%s, %s, %s, 'raw_signals', 'COMPLETED', 1, 1,"
                 " now() - interval '1 hour', now())", (batch_id, tenant, f"{prefix}-batch"))
    conn.execute("INSERT INTO migration.raw_signals (tenant_id, firebase_id, batch_id, signal_type, payload)"
                 " VALUES (%s, %s, %s, 'web.visit', '{\"path\": \"/\"}')", (tenant, f"{prefix}-signal", batch_id))
    conn.execute("INSERT INTO migration.campaigns (tenant_id, firebase_id, name, status, budget, currency)"
                 " VALUES (%s, %s, 'Launch', 'ACTIVE', 100, 'EUR')", (tenant, f"{prefix}-campaign"))
    conn.execute("INSERT INTO migration.audit_logs (tenant_id, firebase_id, actor, action, occurred_at)"
                 " VALUES (%s, %s, 'user:ana', 'campaign.create', now())", (tenant, f"{prefix}-audit"))
    return TenantRows(tenant, "SKU-1", posting, reversed_posting, reversal, "stream-1", event_id, running,
                      compensating, completed, failed, "key-processing", processing_token, "key-completed",
                      completed_token, "key-failed", failed_token, batch_id, prefix)

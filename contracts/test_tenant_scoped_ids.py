"""Issue 17.6 beyond the ledger: caller-chosen saga and event ids (and the ids of inventory items) are scoped to the
tenant, and every key among tenant tables holds tenant_id (the rule a distributed PostgreSQL — Citus, distribution
column tenant_id — imposes), read from the catalog.

Failed on the schema before upgrade 0061: bound to A, B's saga id answered LB508 and B's event id LB605 (an existence
oracle, and a way to squat the ids B will use); an id B had not committed yet made A's call wait (55P03 here, under a
lock timeout); a direct INSERT of an inventory item with B's item id answered 23505; the catalog listed sys.sagas,
sys.saga_steps, events.event_store (event_id), stock.inventory_items and gobernanza.policies as violators.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import psycopg
import pytest

from contracts.test_document_queries import GRANT_APP
from contracts.test_document_queries import run as run_block

START = "SELECT sys.start_saga(%s, %s, %s, '{}', %s)"
APPEND = "SELECT events.append_event(%s, %s, 'ORDER', 'order.placed', %s, 0, '{}', %s)"

# Keys among tenant tables that do not hold tenant_id, each with the reason it may stay so.
CITUS_EXCEPTIONS = {
    "events.event_store.event_store_pkey":
        "global_position is the order of all tenants' events (the catch-up readers' cursor); only the identity"
        " sequence assigns it (a chosen one is LB609), so no tenant can choose, probe or squat one",
    "finanzas.ledger_entries.ledger_entries_pkey":
        "entry ids come from the identity sequence only (a chosen one is LB113)",
    **{f"migration.{table}.{key}": "the migration schema is the owner's one-off Firebase backfill staging:"
       " leadboost_app has no privilege on it, and firebase_id is the source document's global id"
       for table, keys in {
           "batch_control": ("batch_control_pkey", "batch_control_firebase_id_key"),
           "raw_signals": ("raw_signals_pkey", "raw_signals_firebase_id_key", "raw_signals_batch_id_fkey"),
           "campaigns": ("campaigns_pkey", "campaigns_firebase_id_key", "campaigns_batch_id_fkey"),
           "audit_logs": ("audit_logs_pkey", "audit_logs_firebase_id_key", "audit_logs_batch_id_fkey"),
       }.items() for key in keys},
}

# Primary keys, unique constraints, unique indexes and foreign keys of tables with a tenant_id column that do not
# include it (a foreign key must hold it on both sides).
KEYS_WITHOUT_TENANT = """
WITH tenant_tables AS (
    SELECT c.oid, n.nspname || '.' || c.relname AS name, a.attnum
      FROM pg_class AS c
      JOIN pg_namespace AS n ON n.oid = c.relnamespace
      JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
     WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%(schemas)s)
)
SELECT t.name || '.' || con.conname
  FROM pg_constraint AS con
  JOIN tenant_tables AS t ON t.oid = con.conrelid
  LEFT JOIN tenant_tables AS r ON r.oid = con.confrelid
 WHERE con.contype IN ('p', 'u', 'f')
   AND NOT (t.attnum = ANY(con.conkey)
            AND (con.contype <> 'f' OR con.confrelid = 'iam.tenants'::regclass
                 OR r.attnum = ANY(con.confkey) AND array_position(con.conkey, t.attnum)
                                                  = array_position(con.confkey, r.attnum)))
UNION
SELECT t.name || '.' || i.indexrelid::regclass::text
  FROM pg_index AS i
  JOIN tenant_tables AS t ON t.oid = i.indrelid
 WHERE i.indisunique AND NOT t.attnum = ANY(i.indkey::int2[])
   AND NOT EXISTS (SELECT FROM pg_constraint AS con WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u'))
ORDER BY 1
"""
SCHEMAS = ["iam", "finanzas", "stock", "gobernanza", "sys", "events", "migration"]


def test_every_key_among_tenant_tables_holds_tenant_id(leadboost_conn):
    """Invariant (Citus): every PRIMARY KEY, UNIQUE constraint or index and FOREIGN KEY of a tenant table includes
    tenant_id (a foreign key at the same position on both sides), except the listed keys, each with its reason;
    every listed exception still exists (the list cannot outlive the key it excuses)."""
    rows = leadboost_conn.execute(KEYS_WITHOUT_TENANT, {"schemas": SCHEMAS}).fetchall()
    violators = {row[0] for row in rows}
    assert sorted(violators - CITUS_EXCEPTIONS.keys()) == []
    assert sorted(CITUS_EXCEPTIONS.keys() - violators) == []


# --- another tenant's ids answer like unused ones -------------------------------------------------------------------

def bound_app(conn: psycopg.Connection, tenant: uuid.UUID) -> None:
    conn.execute("SET ROLE leadboost_app")
    conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))
    conn.execute("SET lock_timeout = '2s'")  # a wait on B's open row would show as 55P03, not as a hang


def answer(action: Callable[[], object]) -> object:
    try:
        return action()
    except psycopg.Error as error:
        return error.sqlstate


@pytest.fixture
def tenants(leadboost_conn, make_tenant) -> tuple[uuid.UUID, uuid.UUID]:
    return make_tenant(leadboost_conn), make_tenant(leadboost_conn)


@pytest.mark.parametrize("b_state", ["committed", "uncommitted"])
def test_another_tenants_saga_id_is_free_for_this_tenant(leadboost_conn, leadboost_dsn, tenants, b_state):
    """Bound to A, start_saga with the id of B's saga (committed, or still open in another session) starts A's own
    saga at once, as with an unused id; B's saga keeps its definition, and a report on A's saga changes only it."""
    (a, b), saga = tenants, uuid.uuid4()
    with psycopg.connect(leadboost_dsn, autocommit=b_state == "committed") as other:
        other.execute(START, (b, "order.place", '["reserve", "charge"]', saga))
        with psycopg.connect(leadboost_dsn, autocommit=True) as session:
            bound_app(session, a)
            got = answer(lambda: session.execute(START, (a, "campaign.launch", '["draft"]', saga)).fetchone()[0])
            again = answer(lambda: session.execute(START, (a, "campaign.launch", '["draft"]', saga)).fetchone()[0])
            reported = answer(lambda: session.execute(
                "SELECT applied, saga_state, step_status, next_step FROM sys.record_step_success(%s, %s, 1)",
                (a, saga)).fetchone())
        if b_state == "uncommitted":
            other.commit()
    assert (got, again, reported) == (saga, saga, (True, "COMPLETED", "SUCCEEDED", None))
    sagas = leadboost_conn.execute(
        "SELECT s.tenant_id, s.saga_type, s.state, array_agg(st.step_name || ':' || st.status ORDER BY st.step_index)"
        " FROM sys.sagas AS s JOIN sys.saga_steps AS st ON st.tenant_id = s.tenant_id AND st.saga_id = s.id"
        " WHERE s.id = %s GROUP BY 1, 2, 3", (saga,)).fetchall()
    assert {row[0]: row[1:] for row in sagas} == {
        a: ("campaign.launch", "COMPLETED", ["draft:SUCCEEDED"]),
        b: ("order.place", "RUNNING", ["reserve:PENDING", "charge:PENDING"])}


# (tenant, report, step): A and B drive their sagas of one id apart — A fails step 2 and compensates, B completes.
# A's duplicate and late reports come while B's steps are untouched (a read without the tenant would meet B's
# PENDING row first when B started first); A fails step 2 after B's steps 1 and 2 succeeded (a count across tenants
# would name step 2 to compensate).
REPORTS = [("A", "success", 1), ("A", "success", 1), ("A", "failure", 1), ("B", "success", 1), ("B", "success", 2),
           ("A", "failure", 2), ("B", "failure", 2), ("A", "compensation", 1), ("B", "success", 3),
           ("A", "compensation", 1)]
EXPECTED = [(True, "RUNNING", "SUCCEEDED", 2, None), (False, "RUNNING", "SUCCEEDED", 2, None),
            (False, "RUNNING", "SUCCEEDED", 2, None), (True, "RUNNING", "SUCCEEDED", 2, None),
            (True, "RUNNING", "SUCCEEDED", 3, None), (True, "COMPENSATING", "FAILED", None, 1),
            (False, "RUNNING", "SUCCEEDED", 3, None), (True, "FAILED", "COMPENSATED", None, None),
            (True, "COMPLETED", "SUCCEEDED", None, None), (False, "FAILED", "COMPENSATED", None, None)]
CALLS = {"success": "SELECT * FROM sys.record_step_success(%s, %s, %s)",
         "failure": "SELECT * FROM sys.record_step_failure(%s, %s, %s, 'declined')",
         "compensation": "SELECT * FROM sys.record_compensation_done(%s, %s, %s)"}


@pytest.mark.parametrize("first", ["A", "B"])
def test_reports_on_a_shared_saga_id_touch_only_the_callers_saga(leadboost_conn, tenants, first):
    """A and B hold sagas with one id (either started first): every report — success, failure, compensation,
    duplicates — reads and moves the caller's saga only and answers with it; sys.active_sagas shows each tenant's
    own next step; at the end A's saga is FAILED (step 1 compensated, 2 failed) and B's COMPLETED."""
    (a, b), saga, conn = tenants, uuid.uuid4(), leadboost_conn
    tenant = {"A": a, "B": b}
    for name in (first, "B" if first == "A" else "A"):
        conn.execute(START, (tenant[name], "order.place", '["reserve", "charge", "ship"]', saga))
    answers, active = [], []
    for name, report, step in REPORTS:
        answers.append(conn.execute(CALLS[report], (tenant[name], saga, step)).fetchone())
        active.append(conn.execute("SELECT tenant_id, state, steps_succeeded, next_step, next_compensation_step"
                                   " FROM sys.active_sagas WHERE id = %s ORDER BY tenant_id = %s",
                                   (saga, a)).fetchall())
    assert answers == EXPECTED
    assert active[5] == [(b, "RUNNING", 2, 3, None), (a, "COMPENSATING", 1, None, 1)]
    assert active[7] == [(b, "RUNNING", 2, 3, None)]  # A's is FAILED: no longer active
    steps = conn.execute("SELECT tenant_id, array_agg(status ORDER BY step_index) FROM sys.saga_steps"
                         " WHERE saga_id = %s GROUP BY tenant_id", (saga,)).fetchall()
    states = conn.execute("SELECT tenant_id, state FROM sys.sagas WHERE id = %s", (saga,)).fetchall()
    assert dict(steps) == {a: ["COMPENSATED", "FAILED", "PENDING"], b: ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]}
    assert dict(states) == {a: "FAILED", b: "COMPLETED"}


@pytest.mark.parametrize("report", sorted(CALLS))
def test_a_report_on_another_tenants_saga_answers_as_an_unknown_saga(leadboost_conn, tenants, report):
    """A has no saga of B's saga id: a report of A on it answers LB501 exactly as on an unused id, and B's saga
    is unchanged."""
    (a, b), saga, conn = tenants, uuid.uuid4(), leadboost_conn
    conn.execute(START, (b, "order.place", '["reserve", "charge"]', saga))
    conn.execute("SELECT sys.record_step_success(%s, %s, 1)", (b, saga))
    got = [answer(lambda s=s: conn.execute(CALLS[report], (a, s, 1)).fetchall()) for s in (saga, uuid.uuid4())]
    assert got == ["LB501", "LB501"]
    assert conn.execute("SELECT state, failed_step FROM sys.sagas WHERE id = %s", (saga,)).fetchall() == [
        ("RUNNING", None)]


@pytest.mark.parametrize("b_state", ["committed", "uncommitted"])
def test_another_tenants_event_id_is_free_for_this_tenant(leadboost_conn, leadboost_dsn, tenants, b_state):
    """Bound to A, append_event with the id of B's event (committed, or still open in another session) appends A's
    own event at once (version 1), as with an unused id, and a retry of it returns 1 again; B's event is as B
    wrote it."""
    (a, b), event = tenants, uuid.uuid4()
    with psycopg.connect(leadboost_dsn, autocommit=b_state == "committed") as other:
        other.execute(APPEND, (b, "order-b", json.dumps({"total": 1}), event))
        with psycopg.connect(leadboost_dsn, autocommit=True) as session:
            bound_app(session, a)
            got = [answer(lambda: session.execute(APPEND, (a, "order-a", json.dumps({"total": 2}), event)).fetchone()[0])
                   for _ in range(2)]
        if b_state == "uncommitted":
            other.commit()
    assert got == [1, 1]
    rows = leadboost_conn.execute("SELECT tenant_id, stream_id, payload FROM events.event_store WHERE event_id = %s",
                                  (event,)).fetchall()
    assert {row[0]: row[1:] for row in rows} == {a: ("order-a", {"total": 2}), b: ("order-b", {"total": 1})}


def test_a_reused_event_id_with_another_event_is_still_refused_within_the_tenant(leadboost_conn, tenants):
    """The scoping does not weaken idempotency: A's own event id with another payload is LB605."""
    (a, _), event = tenants, uuid.uuid4()
    leadboost_conn.execute(APPEND, (a, "order-a", json.dumps({"total": 2}), event))
    assert answer(lambda: leadboost_conn.execute(APPEND, (a, "order-a2", json.dumps({"total": 3}), event))) == "LB605"


def test_another_tenants_item_id_is_free_for_this_tenant(leadboost_conn, tenants):
    """Under the troubleshooting GRANT block, a direct INSERT of an inventory item with B's item id succeeds for A,
    as with an unused id (it answered 23505: an existence oracle)."""
    (a, b), conn = tenants, leadboost_conn
    item = conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, quantity_on_hand) VALUES (%s, 'X-1', 5)"
                        " RETURNING id", (b,)).fetchone()[0]
    run_block(conn, GRANT_APP)
    conn.execute("SET ROLE leadboost_app")
    conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(a),))
    try:
        got = answer(lambda: conn.execute("INSERT INTO stock.inventory_items (id, tenant_id, sku) VALUES (%s, %s, 'X-2')"
                                          " RETURNING id", (item, a)).fetchone()[0])
    finally:
        conn.execute("RESET ROLE")
    assert got == item

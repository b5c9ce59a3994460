"""Direct DML as an attacker would try it (issue 17.3, 17.4, 17.8): leadboost_app bound to tenant A, with and without
the source document's troubleshooting GRANT block, against rows only functions should change, another tenant's
streams, the event positions every tenant shares, and the locks every tenant needs.

Each route is data (``ROUTES``); ``test_no_direct_dml_route_reaches_another_tenant_or_an_invariant`` runs them all
and counts the ones that succeed or change anything (the issue's "count of direct-DML routes", which must be 0).
The oracle tests compare the answer for another tenant's existing stream with the answer for one that does not
exist: they must be the same, so the answer reveals nothing. They also run with the event trigger that withholds
privileges disabled and INSERT granted outright (as on an install made without a superuser): then the row triggers
themselves must check the tenant binding before they read anything.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from contracts.test_document_queries import GRANT_APP, run
from leadboost_schema.catalog.snapshot import load_contract
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.server import Server
from leadboost_schema.testing.attempts import Attempt, acting_as, attempt, rolled_back
from leadboost_schema.testing.data_fingerprint import data_fingerprint, fingerprint_changes
from leadboost_schema.testing.factories import make_tenant
from leadboost_schema.testing.tenant_rows import TenantRows, make_tenant_rows

CONTRACT = load_contract()
APP_SCHEMAS = ("iam", "finanzas", "stock", "gobernanza", "sys", "events")
APP_TABLES = sorted(name for name in CONTRACT["tables"] if name.split(".")[0] in APP_SCHEMAS)
# Views too: LOCK on a (security_invoker) view locks its tables, checked against the caller's privileges on them.
APP_RELATIONS = APP_TABLES + sorted(name for name in CONTRACT["views"] if name.split(".")[0] in APP_SCHEMAS)
GRANT_STATES = ["as the schema grants", "after the troubleshooting GRANT block"]
# Every lock mode above ROW EXCLUSIVE conflicts with the row locks of ordinary writes (SHARE and up) or with reads
# (ACCESS EXCLUSIVE): held by the application role, it would stop every tenant.
BLOCKING_LOCK_MODES = ["SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"]
EVENT_TRIGGER = "leadboost_withhold_app_write_privileges"


@dataclass
class World:
    conn: psycopg.Connection
    a: TenantRows
    b: TenantRows
    suspended: uuid.UUID
    b_name: str


@pytest.fixture(scope="module")
def world(leadboost_server: Server, leadboost_template: str) -> Iterator[World]:
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as setup:
            a, b = make_tenant_rows(setup), make_tenant_rows(setup)
            suspended = make_tenant(setup, status="SUSPENDED")
            b_name = setup.execute("SELECT name FROM iam.tenants WHERE id = %s", (b.tenant_id,)).fetchone()[0]
        with psycopg.connect(dsn, autocommit=True) as conn:
            yield World(conn, a, b, suspended, b_name)


Route = Callable[[World], tuple[object, str, tuple]]  # -> (binding, statement, parameters)


def _as_a(statement: str, params: Callable[[World], tuple] = lambda w: ()) -> Route:
    return lambda w: (w.a.tenant_id, statement, params(w))


_EVENT = ("INSERT INTO events.event_store (tenant_id, stream_id, stream_type, version, event_type, payload)"
          " VALUES (%s, %s, 'ACCOUNT', %s, 'Credited', '{}')")
ROUTES: dict[str, Route] = {
    # iam.tenants (17.8): a tenant made, activated or renamed by the application
    "insert itself as a new tenant": lambda w: (
        (fresh := uuid.uuid4()), "INSERT INTO iam.tenants (id, name) VALUES (%s, %s)", (fresh, f"squat-{fresh}")),
    "a SUSPENDED tenant sets itself ACTIVE": lambda w: (
        w.suspended, "UPDATE iam.tenants SET status = 'ACTIVE' WHERE id = %s", (w.suspended,)),
    "rename to another tenant's name": _as_a("UPDATE iam.tenants SET name = %s WHERE id = %s",
                                             lambda w: (w.b_name, w.a.tenant_id)),
    # sagas and their steps (17.8)
    "a RUNNING saga set COMPLETED": _as_a("UPDATE sys.sagas SET state = 'COMPLETED', completed_at = now()"
                                          " WHERE id = %s", lambda w: (w.a.saga_running,)),
    "step 3 succeeds before step 2": _as_a("UPDATE sys.saga_steps SET status = 'SUCCEEDED', succeeded_at = now()"
                                           " WHERE saga_id = %s AND step_index = 3", lambda w: (w.a.saga_running,)),
    "a saga inserted COMPLETED with no step run": _as_a(
        "INSERT INTO sys.sagas (id, tenant_id, saga_type, state, step_count, completed_at)"
        " VALUES (gen_random_uuid(), %s, 'order.place', 'COMPLETED', 3, now())", lambda w: (w.a.tenant_id,)),
    "a step inserted SUCCEEDED": _as_a(
        "INSERT INTO sys.saga_steps (saga_id, tenant_id, step_index, step_name, status, succeeded_at)"
        " SELECT id, tenant_id, 4, 'extra', 'SUCCEEDED', now() FROM sys.sagas WHERE id = %s",
        lambda w: (w.a.saga_running,)),
    # idempotency keys and policies: states and counters only the functions move
    "a PROCESSING key marked COMPLETED": _as_a(
        "UPDATE sys.request_keys SET status = 'COMPLETED', response = '{}', completed_at = now()"
        " WHERE tenant_id = %s AND idempotency_key = 'key-processing'", lambda w: (w.a.tenant_id,)),
    "a key forged COMPLETED until 9999": _as_a(
        "INSERT INTO sys.request_keys (tenant_id, idempotency_key, payload_hash, status, response, lock_token,"
        " locked_at, lease_expires_at, completed_at, expires_at) VALUES (%s, 'forged', repeat('0', 64), 'COMPLETED',"
        " '{}', gen_random_uuid(), now(), now() + interval '1 s', now(), '9999-12-30')", lambda w: (w.a.tenant_id,)),
    "a spend window's counter reset": _as_a("UPDATE gobernanza.policies SET window_consumed = 0 WHERE tenant_id = %s",
                                            lambda w: (w.a.tenant_id,)),
    "a kill switch switched off": _as_a("UPDATE gobernanza.policies SET is_active = false WHERE tenant_id = %s"
                                        " AND policy_type = 'KILL_SWITCH'", lambda w: (w.a.tenant_id,)),
    "stock counted up by hand": _as_a("UPDATE stock.inventory_items SET quantity_on_hand = 1000000"
                                      " WHERE tenant_id = %s", lambda w: (w.a.tenant_id,)),
    # the event store (17.3, 17.4)
    "an event for B's stream": _as_a(_EVENT, lambda w: (w.b.tenant_id, w.b.stream_id, 3)),
    # positions ahead of the sequence: the next ones B's appends would get (a used one answers 23505, as any
    # taken key does; positions are one counter for all tenants, not a tenant's data)
    "B's next global positions taken": _as_a(
        "INSERT INTO events.event_store (global_position, tenant_id, stream_id, stream_type, version, event_type,"
        " payload) OVERRIDING SYSTEM VALUE SELECT max(global_position) + 1000, %s, 'squat', 'ACCOUNT', 1, 'X', '{}'"
        " FROM events.event_store", lambda w: (w.a.tenant_id,)),
    "a position near 2^63": _as_a(
        "INSERT INTO events.event_store (global_position, tenant_id, stream_id, stream_type, version, event_type,"
        " payload) OVERRIDING SYSTEM VALUE VALUES (9223372036854775000, %s, 'blind', 'ACCOUNT', 1, 'X', '{}')",
        lambda w: (w.a.tenant_id,)),
    "a snapshot of B's stream": _as_a("INSERT INTO events.snapshots (tenant_id, stream_id, version, state)"
                                      " VALUES (%s, %s, 2, '{\"balance\": 5}')", lambda w: (w.b.tenant_id, w.b.stream_id)),
}


def _run_route(conn: psycopg.Connection, world: World, route: Route) -> Attempt:
    binding, statement, params = route(world)
    with acting_as(conn, binding):
        return attempt(conn, statement, params)


@pytest.mark.parametrize("state", GRANT_STATES)
def test_no_direct_dml_route_reaches_another_tenant_or_an_invariant(world: World, state: str) -> None:
    """Invariant: every route is refused and no row of any table (any tenant) changes. The count of routes that
    got through is the issue's measure: it must be 0."""
    conn = world.conn
    with rolled_back(conn):
        if state != GRANT_STATES[0]:
            run(conn, GRANT_APP)
        before = data_fingerprint(conn)
        results = {name: _run_route(conn, world, route) for name, route in ROUTES.items()}
        after = data_fingerprint(conn)
    through = {name: str(r) for name, r in results.items() if r.error is None}
    assert len(through) == 0, through
    assert fingerprint_changes(before, after) == []
    # Refused by privilege or by the binding checked first — never by a check that read another tenant's rows.
    assert {name: str(r) for name, r in results.items() if r.sqlstate not in {"42501", "LB003", "LB609"}} == {}


@pytest.mark.parametrize("state", GRANT_STATES)
@pytest.mark.parametrize("mode", BLOCKING_LOCK_MODES)
@pytest.mark.parametrize("table", APP_RELATIONS)
def test_the_application_cannot_lock_out_every_tenant(world: World, table: str, mode: str, state: str) -> None:
    """LOCK TABLE in any mode that blocks other sessions' writes or reads needs UPDATE, DELETE or TRUNCATE on the
    table: leadboost_app never holds them, even right after the troubleshooting block granted UPDATE."""
    conn = world.conn
    with rolled_back(conn):
        if state != GRANT_STATES[0]:
            run(conn, GRANT_APP)
        with acting_as(conn, world.a.tenant_id):
            locked = attempt(conn, sql.SQL("LOCK TABLE {} IN {} MODE").format(
                sql.Identifier(*table.split(".")), sql.SQL(mode)))
    assert locked.sqlstate == "42501", locked


def test_the_withheld_privileges_are_taken_back_from_a_database_that_granted_them_before(world: World) -> None:
    """iam.revoke_app_write_privileges() (what an upgrade runs on a production database where the block already
    ran) leaves leadboost_app no UPDATE/DELETE/TRUNCATE and no INSERT on the tables only functions, triggers or the
    migrator write (stored balances and the upgrade history included)."""
    conn = world.conn
    with rolled_back(conn):
        conn.execute(f"ALTER EVENT TRIGGER {EVENT_TRIGGER} DISABLE")
        run(conn, GRANT_APP)
        granted = conn.execute("SELECT has_table_privilege('leadboost_app', 'iam.tenants', 'UPDATE')").fetchone()[0]
        conn.execute("SELECT iam.revoke_app_write_privileges()")
        kept = conn.execute(
            "SELECT t, p FROM unnest(%s::text[]) AS t, unnest(ARRAY['UPDATE', 'DELETE', 'TRUNCATE', 'INSERT']) AS p"
            " WHERE has_table_privilege('leadboost_app', t, p)", (APP_TABLES,)).fetchall()
    assert granted is True
    assert sorted(kept) == [("events.event_store", "INSERT"), ("events.snapshots", "INSERT"),
                            ("finanzas.ledger_entries", "INSERT"), ("finanzas.transactions", "INSERT"),
                            ("stock.inventory_items", "INSERT")]


# --- no oracle: another tenant's existing stream answers like one that does not exist ----------------------------

ORACLES = {
    "an event for B's stream": (_EVENT, lambda w, stream: (w.b.tenant_id, stream, 3)),
    "a snapshot of B's stream, right state": (
        "INSERT INTO events.snapshots (tenant_id, stream_id, version, state) VALUES (%s, %s, 1, '{\"balance\": 0}')",
        lambda w, stream: (w.b.tenant_id, stream)),
    "a snapshot of B's stream, wrong state": (
        "INSERT INTO events.snapshots (tenant_id, stream_id, version, state) VALUES (%s, %s, 1, '{\"balance\": 9}')",
        lambda w, stream: (w.b.tenant_id, stream)),
}
PRIVILEGE_STATES = ["after the troubleshooting GRANT block", "INSERT granted with the event trigger disabled"]


@pytest.mark.parametrize("state", PRIVILEGE_STATES)
@pytest.mark.parametrize("oracle", ORACLES)
def test_a_direct_insert_learns_nothing_of_another_tenant(world: World, oracle: str, state: str) -> None:
    """Bound to A, a direct INSERT aimed at B's existing stream gets exactly the answer (SQLSTATE and message, with
    B's stream id replaced) that one aimed at a stream B does not have gets: no version, type or state of B leaks."""
    conn = world.conn
    statement, params = ORACLES[oracle]
    missing = "no-such-stream"
    with rolled_back(conn):
        if state == PRIVILEGE_STATES[1]:
            conn.execute(f"ALTER EVENT TRIGGER {EVENT_TRIGGER} DISABLE")
            conn.execute("GRANT INSERT ON events.event_store, events.snapshots TO leadboost_app")
        else:
            run(conn, GRANT_APP)
        with acting_as(conn, world.a.tenant_id):
            existing = attempt(conn, statement, params(world, world.b.stream_id))
            absent = attempt(conn, statement, params(world, missing))
    assert existing.error is not None
    assert (existing.sqlstate, existing.message.replace(world.b.stream_id, missing)) == (absent.sqlstate,
                                                                                         absent.message)
    assert existing.sqlstate == "LB003", existing

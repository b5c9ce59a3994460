"""Every SQLSTATE in schema/README.md's error table is produced by a test, with its documented message; and every
code a test produces is in the table."""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from leadboost_schema.databases.sql_files import MASTER_MIGRATION, SchemaFileError, apply_sql_file
from leadboost_schema.paths import schema_dir

LEGS = '[{"account_type": "CASH", "amount": 10, "direction": 1}, {"account_type": "REVENUE", "amount": 10, "direction": -1}]'


def documented_codes(readme: Path) -> set[str]:
    return set(re.findall(r"^\| (LB\d{3}) \|", readme.read_text(encoding="utf-8"), flags=re.MULTILINE))


@dataclass
class World:
    """Rows the scenarios need, all made through the public API."""
    tenant: uuid.UUID
    other: uuid.UUID
    suspended: uuid.UUID
    posted: uuid.UUID
    reversed: uuid.UUID
    running_saga: uuid.UUID
    compensating_saga: uuid.UUID
    event_id: uuid.UUID


@pytest.fixture
def world(leadboost_conn, make_tenant) -> World:
    conn = leadboost_conn
    tenant, other = make_tenant(conn), make_tenant(conn)
    suspended = make_tenant(conn, status="SUSPENDED")
    conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, quantity_on_hand) VALUES (%s, 'SKU-1', 10)",
                 (tenant,))
    posted = conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS)).fetchone()[0]
    reversed_ = conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS)).fetchone()[0]
    conn.execute("SELECT finanzas.reverse_transaction(%s, %s)", (tenant, reversed_))
    running = conn.execute("SELECT sys.start_saga(%s, 'order.place', '[\"a\", \"b\", \"c\"]')", (tenant,)).fetchone()[0]
    compensating = conn.execute("SELECT sys.start_saga(%s, 'order.place', '[\"a\", \"b\", \"c\"]')",
                                (tenant,)).fetchone()[0]
    conn.execute("SELECT sys.record_step_success(%s, %s, 1)", (tenant, compensating))
    conn.execute("SELECT sys.record_step_success(%s, %s, 2)", (tenant, compensating))
    conn.execute("SELECT sys.record_step_failure(%s, %s, 3)", (tenant, compensating))
    event_id = uuid.uuid4()
    conn.execute("SELECT events.append_event(%s, 'stream-1', 'CAMPAIGN', 'Created', '{\"a\": 1}', 0, '{}', %s)",
                 (tenant, event_id))
    conn.execute("SELECT events.append_event(%s, 'stream-1', 'CAMPAIGN', 'Changed', '{\"a\": 2}', 1)", (tenant,))
    conn.execute("SELECT sys.claim_request_key(%s, 'key-1', '{\"a\": 1}')", (tenant,))
    return World(tenant, other, suspended, posted, reversed_, running, compensating, event_id)


def _legs(*legs: tuple) -> str:
    return json.dumps([{"account_type": a, "amount": m, "direction": d} for a, m, d in legs])


def _bound(conn: psycopg.Connection, tenant: object) -> None:
    conn.execute("SET ROLE leadboost_app")
    conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))


def _master_migration(conn: psycopg.Connection, tamper: str) -> None:
    """000_master_migration.sql on this (fresh, versioned) database after ``tamper`` changed its recorded history;
    the refusal is the SQL error the runner stopped at."""
    conn.execute(tamper)
    try:
        apply_sql_file(conn, schema_dir() / MASTER_MIGRATION)
    except SchemaFileError as error:
        raise error.__cause__ from None


def _overriding_entry_id(conn: psycopg.Connection, w: World) -> None:
    """leadboost_app after the troubleshooting GRANT, choosing a leg's id with OVERRIDING SYSTEM VALUE."""
    conn.execute("GRANT INSERT ON finanzas.transactions, finanzas.ledger_entries TO leadboost_app")
    _bound(conn, w.tenant)
    header = uuid.uuid4()
    with conn.transaction():
        conn.execute("INSERT INTO finanzas.transactions (id, tenant_id, currency) VALUES (%s, %s, 'EUR')",
                     (header, w.tenant))
        conn.execute("INSERT INTO finanzas.ledger_entries (id, tenant_id, transaction_id, account_type, amount,"
                     " direction, currency) OVERRIDING SYSTEM VALUE VALUES (10^12, %s, %s, 'CASH', 1, 1, 'EUR')",
                     (w.tenant, header))


Scenario = Callable[[psycopg.Connection, World], object]
SCENARIOS: dict[str, tuple[str, Scenario]] = {
    "LB001": ("p_tenant_id must not be NULL",
              lambda c, w: c.execute("SELECT finanzas.post_transaction(NULL, %s)", (LEGS,))),
    "LB002": ("unknown tenant",
              lambda c, w: c.execute("SELECT finanzas.post_transaction(%s, %s)", (uuid.uuid4(), LEGS))),
    "LB003": ("session is bound to tenant",
              lambda c, w: (_bound(c, w.other),
                            c.execute("SELECT * FROM stock.reserve_inventory(%s, 'SKU-1', 1, 1)", (w.tenant,)))),
    "LB004": ("is SUSPENDED, not ACTIVE",
              lambda c, w: c.execute("SELECT * FROM stock.reserve_inventory(%s, 'SKU-1', 1, 1)", (w.suspended,))),
    "LB005": ("p_sku must be 1 to 64 characters long",
              lambda c, w: c.execute("SELECT * FROM stock.reserve_inventory(%s, %s, 1, 1)", (w.tenant, "S" * 65))),
    "LB006": ("at most 1 MiB",
              lambda c, w: c.execute("SELECT events.append_event(%s, 's', 'CAMPAIGN', 'Big',"
                                     " jsonb_build_object('x', repeat('a', 1100000)), 0)", (w.tenant,))),
    "LB007": ("p_now is the real clock for role leadboost_app",
              lambda c, w: (_bound(c, w.tenant),
                            c.execute("SELECT * FROM gobernanza.validate_action(%s, 'ads.spend', 1,"
                                      " now() + interval '1 hour')", (w.tenant,)))),
    "LB008": ("p_now must be a finite time",
              lambda c, w: c.execute("SELECT * FROM sys.claim_request_key(%s, 'key-9', '{}',"
                                     " p_now => 'infinity')", (w.tenant,))),
    "LB101": ("p_legs must be a JSON array",
              lambda c, w: c.execute("SELECT finanzas.post_transaction(%s, '{}')", (w.tenant,))),
    "LB102": ("amount must be > 0",
              lambda c, w: c.execute("SELECT finanzas.post_transaction(%s, %s)",
                                     (w.tenant, _legs(("CASH", 0, 1), ("REVENUE", 0, -1))))),
    "LB103": ("direction must be 1 (debit) or -1 (credit)",
              lambda c, w: c.execute("SELECT finanzas.post_transaction(%s, %s)",
                                     (w.tenant, _legs(("CASH", 1, 2), ("REVENUE", 1, -1))))),
    "LB104": ("unknown account_type",
              lambda c, w: c.execute("SELECT finanzas.post_transaction(%s, %s)",
                                     (w.tenant, _legs(("NOPE", 1, 1), ("REVENUE", 1, -1))))),
    "LB105": ("unbalanced transaction",
              lambda c, w: c.execute("SELECT finanzas.post_transaction(%s, %s)",
                                     (w.tenant, _legs(("CASH", 10, 1), ("REVENUE", 9, -1))))),
    "LB106": ("at least 2 legs",
              lambda c, w: c.execute("SELECT finanzas.post_transaction(%s, %s)", (w.tenant, _legs(("CASH", 1, 1))))),
    "LB107": ("ISO 4217",
              lambda c, w: c.execute("SELECT finanzas.post_transaction(%s, %s, 'eur')", (w.tenant, LEGS))),
    "LB108": ("is already committed: legs cannot be added",
              lambda c, w: c.execute("INSERT INTO finanzas.ledger_entries (tenant_id, transaction_id, account_type,"
                                     " amount, direction, currency) VALUES (%s, %s, 'CASH', 1, 1, 'EUR')",
                                     (w.tenant, w.posted))),
    "LB109": ("unknown transaction",
              lambda c, w: c.execute("SELECT finanzas.reverse_transaction(%s, %s)", (w.tenant, uuid.uuid4()))),
    "LB110": ("is already reversed by transaction",
              lambda c, w: c.execute("SELECT finanzas.reverse_transaction(%s, %s, 'another reversal')",
                                     (w.tenant, w.reversed))),
    "LB111": ("was already used for a different posting",
              lambda c, w: c.execute("SELECT finanzas.post_transaction(%s, %s, 'EUR', NULL, %s)",
                                     (w.tenant, _legs(("BANK", 10, 1), ("REVENUE", 10, -1)), w.posted))),
    "LB112": ("is maintained by the ledger: UPDATE is not allowed",
              lambda c, w: c.execute("UPDATE finanzas.account_balance_shards SET total_debits = total_debits + 1"
                                     " WHERE tenant_id = %s", (w.tenant,))),
    "LB113": ("was chosen by the INSERT: entry ids come from their sequence",
              lambda c, w: _overriding_entry_id(c, w)),
    "LB201": ("unknown sku",
              lambda c, w: c.execute("SELECT * FROM stock.reserve_inventory(%s, 'NOPE', 1, 1)", (w.tenant,))),
    "LB202": ("p_quantity must be a positive number",
              lambda c, w: c.execute("SELECT * FROM stock.release_inventory(%s, 'SKU-1', 0, 1)", (w.tenant,))),
    "LB203": ("cannot change",
              lambda c, w: c.execute("UPDATE stock.inventory_items SET sku = 'OTHER' WHERE tenant_id = %s",
                                     (w.tenant,))),
    "LB301": ("p_action must be a lowercase dotted name",
              lambda c, w: c.execute("SELECT * FROM gobernanza.validate_action(%s, 'Bad Action')", (w.tenant,))),
    "LB302": ("p_amount must be >= 0",
              lambda c, w: c.execute("SELECT * FROM gobernanza.validate_action(%s, 'ads.spend', -1)", (w.tenant,))),
    "LB401": ("was used with a different payload",
              lambda c, w: c.execute("SELECT * FROM sys.claim_request_key(%s, 'key-1', '{\"a\": 2}')", (w.tenant,))),
    "LB402": ("unknown idempotency key",
              lambda c, w: c.execute("SELECT sys.complete_request_key(%s, 'nope', %s, '{}')",
                                     (w.tenant, uuid.uuid4()))),
    "LB403": ("lease was lost",
              lambda c, w: c.execute("SELECT sys.complete_request_key(%s, 'key-1', %s, '{}')",
                                     (w.tenant, uuid.uuid4()))),
    "LB404": ("p_lease must be in",
              lambda c, w: c.execute("SELECT * FROM sys.claim_request_key(%s, 'key-2', '{}', '0 seconds')",
                                     (w.tenant,))),
    "LB501": ("unknown saga",
              lambda c, w: c.execute("SELECT * FROM sys.record_step_success(%s, %s, 1)", (w.tenant, uuid.uuid4()))),
    "LB502": ("illegal state transition COMPENSATING → COMPLETED",
              lambda c, w: c.execute("UPDATE sys.sagas SET state = 'COMPLETED', completed_at = now() WHERE id = %s",
                                     (w.compensating_saga,))),
    "LB503": ("p_steps must be a JSON array of 1 to 100 distinct step names",
              lambda c, w: c.execute("SELECT sys.start_saga(%s, 'order.place', '[]')", (w.tenant,))),
    "LB504": ("reported before step 1 succeeded",
              lambda c, w: c.execute("SELECT * FROM sys.record_step_success(%s, %s, 2)",
                                     (w.tenant, w.running_saga))),
    "LB505": ("has steps 1..3, not 9",
              lambda c, w: c.execute("SELECT * FROM sys.record_step_failure(%s, %s, 9)",
                                     (w.tenant, w.running_saga))),
    "LB506": ("no compensation of it was requested",
              lambda c, w: c.execute("SELECT * FROM sys.record_compensation_done(%s, %s, 1)",
                                     (w.tenant, w.running_saga))),
    "LB507": ("step 2 must be compensated before step 1",
              lambda c, w: c.execute("SELECT * FROM sys.record_compensation_done(%s, %s, 1)",
                                     (w.tenant, w.compensating_saga))),
    "LB508": ("was already used for a different saga",
              lambda c, w: c.execute("SELECT sys.start_saga(%s, 'order.place', '[\"x\"]', '{}', %s)",
                                     (w.tenant, w.running_saga))),
    "LB601": ("wrong expected version for stream stream-1: expected 0, stream is at 2",
              lambda c, w: c.execute("SELECT events.append_event(%s, 'stream-1', 'CAMPAIGN', 'X', '{}', 0)",
                                     (w.tenant,))),
    "LB602": ("must be JSON objects",
              lambda c, w: c.execute("SELECT events.append_event(%s, 'stream-1', 'CAMPAIGN', 'X', '[]', 2)",
                                     (w.tenant,))),
    "LB603": ("unknown stream",
              lambda c, w: c.execute("SELECT * FROM events.rehydrate(%s, 'nope')", (w.tenant,))),
    "LB604": ("has stream_type CAMPAIGN, not ORDER",
              lambda c, w: c.execute("SELECT events.append_event(%s, 'stream-1', 'ORDER', 'X', '{}', 2)",
                                     (w.tenant,))),
    "LB605": ("was already used for a different event",
              lambda c, w: c.execute("SELECT events.append_event(%s, 'stream-1', 'CAMPAIGN', 'Other', '{}', 2,"
                                     " '{}', %s)", (w.tenant, w.event_id))),
    "LB606": ("does not equal the replayed state",
              lambda c, w: c.execute("INSERT INTO events.snapshots (tenant_id, stream_id, version, state)"
                                     " VALUES (%s, 'stream-1', 1, '{\"a\": 99}')", (w.tenant,))),
    "LB607": ("has versions 1..2, not 99",
              lambda c, w: c.execute("SELECT * FROM events.replay_stream(%s, 'stream-1', 99)", (w.tenant,))),
    "LB608": ("at most 16777216 (16 MiB) is allowed",
              lambda c, w: (c.execute("SELECT events.append_event(%s, 'big', 'CAMPAIGN', 'Grown',"
                                      " jsonb_build_object('k' || n, repeat('x', 1040000)), n - 1)"
                                      " FROM generate_series(1, 17) AS n", (w.tenant,)),
                            c.execute("SELECT * FROM events.rehydrate(%s, 'big')", (w.tenant,)))),
    "LB609": ("was not assigned by the database",
              lambda c, w: c.execute("INSERT INTO events.event_store (global_position, tenant_id, stream_id,"
                                     " stream_type, version, event_type, payload) OVERRIDING SYSTEM VALUE"
                                     " VALUES (4611686018427387904, %s, 'stream-1', 'CAMPAIGN', 3, 'X', '{}')",
                                     (w.tenant,))),
    "LB901": ("is append-only: DELETE is not allowed",
              lambda c, w: c.execute("DELETE FROM events.event_store WHERE tenant_id = %s", (w.tenant,))),
    # The master migration's refusals (upgrade history): a recorded checksum that no longer matches its file is
    # what an edited released upgrade looks like from the database; an upgrade the folder lacks, a newer database.
    "LB902": ("changed after this database applied them",
              lambda c, w: _master_migration(c, "UPDATE sys.schema_upgrades SET checksum = 'edited' WHERE upgrade ="
                                                " (SELECT min(upgrade) FROM sys.schema_upgrades WHERE upgrade ~ '^[0-9]')")),
    "LB903": ("that this schema folder does not know",
              lambda c, w: _master_migration(c, "INSERT INTO sys.schema_upgrades (upgrade, release, checksum, how)"
                                                " VALUES ('9999_from_the_future.sql', '9.9.9', 'x', 'upgrade')")),
    # A database without the version table whose catalog is no release's: a hand-made change to an unversioned one.
    "LB904": ("matches no release",
              lambda c, w: _master_migration(c, "DROP TABLE sys.schema_upgrades;"
                                                " COMMENT ON TABLE iam.tenants IS 'changed by hand'")),
}


def test_the_readme_table_and_the_scenarios_name_the_same_codes():
    assert documented_codes(schema_dir() / "README.md") == set(SCENARIOS)


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_documented_error(leadboost_conn, world, code):
    fragment, scenario = SCENARIOS[code]
    try:
        with pytest.raises(psycopg.Error) as raised:
            scenario(leadboost_conn, world)
    finally:
        leadboost_conn.execute("RESET ROLE")
        leadboost_conn.execute("RESET app.tenant_id")
    assert raised.value.sqlstate == code, raised.value
    assert fragment in raised.value.diag.message_primary, raised.value.diag.message_primary

"""The scripts as scripts: the live catalog equals contract.json, the master is idempotent, apply → rollback → apply
gives the same catalog, 001–007 one by one equal the master, the seed is idempotent, the rollback leaves nothing."""
from __future__ import annotations

import re

import psycopg
import pytest

from leadboost_schema.catalog.snapshot import SCHEMAS, diff, load_contract, snapshot
from leadboost_schema.databases.sql_files import apply_sql_file

NUMBERED = ["001_schema_iam.sql", "002_schema_finanzas.sql", "003_schema_stock.sql", "004_schema_gobernanza.sql",
            "005_schema_sys.sql", "006_schema_events.sql", "007_schema_migration.sql"]
REGENERATE = ("if the schema change is intended, regenerate the contract: "
              "leadboost_schema.catalog.snapshot.write_contract(conn) on a freshly migrated database, and commit it")


def _ours(conn: psycopg.Connection) -> list[str]:
    """Names of our schemas that exist, and of anything else the migration could have left in them."""
    return [row[0] for row in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY 1",
                                           (list(SCHEMAS),))]


def _row_counts(conn: psycopg.Connection) -> dict[str, int]:
    tables = [row[0] for row in conn.execute(
        "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1",
        (list(SCHEMAS),))]
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}


def _uuid_ossp(conn: psycopg.Connection) -> tuple[bool, bool]:
    return conn.execute("SELECT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'uuid-ossp'),"
                        " EXISTS (SELECT FROM pg_extension WHERE extname = 'uuid-ossp')").fetchone()


def test_migrated_catalog_equals_the_committed_contract(leadboost_conn):
    differences = diff(load_contract(), snapshot(leadboost_conn))
    assert differences == [], "\n".join(differences[:50] + [REGENERATE])


def test_uuid_ossp_installed_where_the_server_has_it(leadboost_conn):
    available, installed = _uuid_ossp(leadboost_conn)
    assert installed == available


def test_master_applied_twice_changes_nothing(leadboost_conn, schema_folder):
    before = snapshot(leadboost_conn)
    apply_sql_file(leadboost_conn, schema_folder / "000_master_migration.sql")
    assert diff(before, snapshot(leadboost_conn)) == []


def test_rollback_then_apply_gives_the_same_catalog(leadboost_conn, schema_folder):
    before, extension_before = snapshot(leadboost_conn), _uuid_ossp(leadboost_conn)
    apply_sql_file(leadboost_conn, schema_folder / "999_rollback.sql")
    assert _ours(leadboost_conn) == []
    apply_sql_file(leadboost_conn, schema_folder / "000_master_migration.sql")
    assert diff(before, snapshot(leadboost_conn)) == []
    assert _uuid_ossp(leadboost_conn) == extension_before


def test_rollback_removes_everything_and_runs_twice(leadboost_seeded_conn, schema_folder):
    apply_sql_file(leadboost_seeded_conn, schema_folder / "999_rollback.sql")
    apply_sql_file(leadboost_seeded_conn, schema_folder / "999_rollback.sql")
    assert _ours(leadboost_seeded_conn) == []
    leftovers = leadboost_seeded_conn.execute(
        "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname = ANY(%s)", (list(SCHEMAS),)).fetchone()[0]
    assert leftovers == 0
    # Roles are cluster-wide: other databases of this cluster (the templates) still grant leadboost_app
    # privileges, so the rollback keeps it.
    assert leadboost_seeded_conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'leadboost_app'").fetchone()[0]


@pytest.mark.parametrize("name", [*NUMBERED, "008_seed_data.sql", "999_rollback.sql"])
def test_numbered_files_are_plain_sql(schema_folder, name):
    meta = [line for line in (schema_folder / name).read_text().splitlines() if re.match(r"\s*\\", line)]
    assert meta == [], f"{name} has psql meta-commands; only 000 may"


def test_files_one_by_one_give_the_master_catalog(empty_dsn, schema_folder):
    """Option B of the document (each file by hand) installs head without the version table; the master run
    afterwards recognises head by its fingerprint and records it, changing nothing else."""
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        for name in NUMBERED:
            conn.execute((schema_folder / name).read_bytes())  # each file's text in one execute
        assert diff(load_contract(), snapshot(conn)) == ["tables.sys.schema_upgrades: missing"]
        apply_sql_file(conn, schema_folder / "000_master_migration.sql")
        differences = diff(load_contract(), snapshot(conn))
        hows = {row[0] for row in conn.execute("SELECT how FROM sys.schema_upgrades")}
    assert differences == [], "\n".join(differences[:50])
    assert hows <= {"adopted"}


def test_seed_is_idempotent(leadboost_seeded_conn, schema_folder):
    before = _row_counts(leadboost_seeded_conn)
    leadboost_seeded_conn.execute((schema_folder / "008_seed_data.sql").read_bytes())
    assert _row_counts(leadboost_seeded_conn) == before
    assert leadboost_seeded_conn.execute(
        "SELECT version, quantity_on_hand - quantity_reserved FROM stock.inventory_items"
        " WHERE tenant_id = '11111111-1111-1111-1111-111111111111' AND sku = 'ACME-WIDGET-001'").fetchone() == (1, 100)


def test_seed_covers_every_schema(leadboost_seeded_conn):
    counts = _row_counts(leadboost_seeded_conn)
    counts.pop("sys.schema_upgrades")  # the schema history, not seed data
    assert {table for table, n in counts.items() if n == 0} == set()
    balances = leadboost_seeded_conn.execute(
        "SELECT tenant_id, sum(amount * direction) FROM finanzas.ledger_entries GROUP BY 1").fetchall()
    assert len(balances) == 2 and all(total == 0 for _, total in balances)
    states = dict(leadboost_seeded_conn.execute("SELECT state, count(*) FROM sys.sagas GROUP BY 1").fetchall())
    assert states == {"RUNNING": 1, "FAILED": 1}


def test_seeded_streams_rehydrate_to_their_replay(leadboost_seeded_conn):
    streams = leadboost_seeded_conn.execute("SELECT tenant_id, stream_id FROM events.stream_summary").fetchall()
    assert len(streams) == 3
    for tenant_id, stream_id in streams:
        rehydrated = leadboost_seeded_conn.execute("SELECT * FROM events.rehydrate(%s, %s)",
                                                   (tenant_id, stream_id)).fetchone()
        replayed = leadboost_seeded_conn.execute("SELECT * FROM events.replay_stream(%s, %s)",
                                                 (tenant_id, stream_id)).fetchone()
        assert rehydrated == replayed

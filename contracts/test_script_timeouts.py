"""The scripts' lock and statement timeouts: re-applied (or rolled back) on a database where another session holds a
lock, a script gives up after lock_timeout with 55P03 and changes nothing, instead of queueing an ACCESS EXCLUSIVE
request that would block every later query on the table; and the connection keeps its own settings afterwards."""
from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from contracts.schema_copies import add_upgrade, copy_schema
from leadboost_schema.catalog.snapshot import diff, snapshot
from leadboost_schema.databases.sql_files import SchemaFileError, apply_sql_file

# The connection's own values: the scripts override them while they run and must give them back.
OWN_LOCK_TIMEOUT_S = 123
OWN_SETTINGS = f"-c lock_timeout={OWN_LOCK_TIMEOUT_S}s -c statement_timeout=456s"
SCRIPT_LOCK_TIMEOUT_S = 5  # SET lock_timeout in 001–007 and 999 (schema/README.md, "Lock and statement timeouts")


@pytest.fixture
def applier(leadboost_dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(leadboost_dsn, autocommit=True, options=OWN_SETTINGS) as conn:
        yield conn


@pytest.fixture
def reader(leadboost_dsn: str) -> Iterator[psycopg.Connection]:
    """An application session in the middle of a transaction that read iam.tenants (ACCESS SHARE lock held)."""
    with psycopg.connect(leadboost_dsn) as conn:
        conn.execute("SELECT count(*) FROM iam.tenants").fetchone()
        yield conn
        conn.rollback()


def _own_settings(conn: psycopg.Connection) -> tuple[str, str]:
    return conn.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')").fetchone()


def _refused_by_lock_timeout(conn: psycopg.Connection, script) -> float:
    started = time.monotonic()
    with pytest.raises(SchemaFileError) as refused:
        apply_sql_file(conn, script)
    assert isinstance(refused.value.__cause__, psycopg.errors.LockNotAvailable), refused.value
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
        conn.execute("ROLLBACK")  # the master's own BEGIN
    return time.monotonic() - started


def test_an_upgrade_behind_a_reader_gives_up_and_changes_nothing(applier, reader, schema_folder, tmp_path):
    """A pending upgrade that needs a lock the application holds gives up after the upgrade's own lock_timeout,
    rolls back whole (no column, no record), and applies on the next run once the reader is gone."""
    folder = copy_schema(schema_folder, tmp_path / "schema")
    add_upgrade(folder, "0999_tenant_note.sql", "SET lock_timeout = '5s';\nSET statement_timeout = '1min';\n"
                "ALTER TABLE iam.tenants ADD COLUMN note text;\nRESET lock_timeout;\nRESET statement_timeout;\n")
    before = snapshot(applier)
    waited = _refused_by_lock_timeout(applier, folder / "000_master_migration.sql")
    # Which timeout gave up (not a speed target): the script's 5 s, not the connection's 123 s.
    assert SCRIPT_LOCK_TIMEOUT_S * 0.9 <= waited < OWN_LOCK_TIMEOUT_S
    assert diff(before, snapshot(applier)) == []
    assert _own_settings(applier) == ("123s", "456s")
    assert applier.execute("SELECT count(*) FROM sys.schema_upgrades WHERE upgrade = '0999_tenant_note.sql'"
                           ).fetchone() == (0,)
    reader.rollback()
    apply_sql_file(applier, folder / "000_master_migration.sql")
    assert _own_settings(applier) == ("123s", "456s")
    assert applier.execute("SELECT count(*) FROM sys.schema_upgrades WHERE upgrade = '0999_tenant_note.sql'"
                           ).fetchone() == (1,)


def test_rollback_behind_a_reader_gives_up_and_drops_nothing(applier, reader, schema_folder):
    before = snapshot(applier)
    _refused_by_lock_timeout(applier, schema_folder / "999_rollback.sql")
    assert diff(before, snapshot(applier)) == []
    assert _own_settings(applier) == ("123s", "456s")


@pytest.mark.parametrize("name", ["001_schema_iam.sql", "006_schema_events.sql", "999_rollback.sql"])
def test_a_file_run_alone_gives_the_connection_its_settings_back(applier, schema_folder, name):
    applier.execute((schema_folder / name).read_bytes())  # each file's text in one execute, as a driver would
    assert _own_settings(applier) == ("123s", "456s")

"""Release 1.0.0 databases reach head (issue 11): a database built by plain psql from 9e73ed3's schema/, seeded and
filled through the public functions of every domain, is brought to head by head's ``psql -f
000_master_migration.sql`` and, separately, by ``leadboost-schema migrate``. Afterwards the catalog equals the
contract (verify's comparison), every row of 1.0.0's tables is kept (columns 1.0.0 had; tables an upgrade declares
in ``transforms`` excepted), every invariant holds, and running it again changes nothing."""
from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from contracts.test_psql_master import psql
from leadboost_schema.catalog import drift
from leadboost_schema.catalog.snapshot import load_contract, snapshot
from leadboost_schema.cli import main
from leadboost_schema.cli.errors import OK, PENDING, REFUSED
from leadboost_schema.databases.backup import restore_database
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.databases.sql_files import apply_sql_file
from leadboost_schema.testing.data_fingerprint import kept_rows, table_columns
from leadboost_schema.testing.invariants import violations
from leadboost_schema.testing.release_data import fill_release_data
from leadboost_schema.upgrades.files import load
from leadboost_schema.upgrades.releases import schema_at

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout: 1.0.0 is read from git")


@pytest.fixture(scope="session")
def release_1_0_0(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """schema/ as release 1.0.0 shipped it."""
    return schema_at("1.0.0", REPO, tmp_path_factory.mktemp("release-1.0.0"))


def build_1_0_0(server, dsn: str, release: Path) -> None:
    """1.0.0's master and seed by plain psql, then a few thousand rows through the public functions."""
    for script in ("000_master_migration.sql", "008_seed_data.sql"):
        done = psql(server, dsn, "-q", "-f", script, cwd=release)
        assert done.returncode == 0, done.stderr
    with psycopg.connect(dsn, autocommit=True) as conn:
        fill_release_data(conn, tenants=3, rounds=100)


def history_rows(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("SELECT upgrade, release, checksum, how, applied_at, duration FROM sys.schema_upgrades"
                        " ORDER BY upgrade").fetchall()


def assert_at_head(conn: psycopg.Connection, columns: dict[str, list[str]], before: dict[str, tuple[int, str]],
                   transformed: set[str]) -> None:
    assert drift.compare(load_contract(), snapshot(conn)) == []
    after = kept_rows(conn, columns)
    lost = {name: (before[name], after[name]) for name in before
            if name not in transformed and before[name] != after[name]}
    assert lost == {}
    assert violations(conn) == {}


@pytest.mark.parametrize("how", ["psql -f", "migrate"])
def test_a_filled_1_0_0_database_reaches_head_keeping_its_rows(how, leadboost_server, empty_dsn, release_1_0_0,
                                                              schema_folder, capsys, tmp_path):
    build_1_0_0(leadboost_server, empty_dsn, release_1_0_0)
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        columns = table_columns(conn)
        before = kept_rows(conn, columns)
    assert sum(count for count, _ in before.values()) > 3000
    assert main(["status", "--dsn", empty_dsn]) == PENDING
    assert "unversioned, adoptable as 1.0.0" in capsys.readouterr().out

    def upgrade(backup: Path) -> None:
        if how == "psql -f":
            done = psql(leadboost_server, empty_dsn, "-f", "000_master_migration.sql", cwd=schema_folder)
            assert done.returncode == 0, done.stderr
        else:
            assert main(["migrate", "--dsn", empty_dsn, "--backup", str(backup)]) == OK, capsys.readouterr()

    upgrade(tmp_path / "pre.dump")
    transformed = {t for u in load(schema_folder) for t in u.transforms}
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        assert_at_head(conn, columns, before, transformed)
        recorded = history_rows(conn)
        head = kept_rows(conn, table_columns(conn))
    assert [row[0] for row in recorded] == sorted(["1.0.0", *(u.name for u in load(schema_folder))])
    assert main(["verify", "--dsn", empty_dsn]) == OK
    assert main(["status", "--dsn", empty_dsn, "--json"]) == OK
    capsys.readouterr()

    upgrade(tmp_path / "again.dump")  # again: a no-op
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        assert history_rows(conn) == recorded
        assert kept_rows(conn, table_columns(conn)) == head
    assert not (tmp_path / "again.dump").exists(), "no backup when nothing is pending"
    if how == "migrate":  # the pre-migration backup holds 1.0.0 as it was: restored elsewhere, every row is there
        with fresh_database(leadboost_server, None) as restored:
            restore_database(restored, tmp_path / "pre.dump")
            with psycopg.connect(restored) as conn:
                assert kept_rows(conn, columns) == before
                assert conn.execute("SELECT to_regclass('sys.schema_upgrades')").fetchone() == (None,)


def test_a_database_that_matches_no_release_is_refused_with_its_drift(empty_dsn, release_1_0_0, capsys):
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        apply_sql_file(conn, release_1_0_0 / "000_master_migration.sql")
        # On the table the drift report lists first (differences come in name order and only the first 40 are
        # printed: head's own changes since 1.0.0 fill them before stock.* is reached).
        conn.execute("ALTER TABLE events.event_store ADD COLUMN colour text")
        before = snapshot(conn)
    assert main(["migrate", "--dsn", empty_dsn]) == REFUSED
    out, err = capsys.readouterr()
    assert "extra    column events.event_store.colour" in out
    (line,) = [x for x in err.splitlines() if x.startswith("leadboost-schema migrate:")]
    assert "[LB904]" in line and "matches no release" in line
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        assert snapshot(conn) == before  # nothing changed, no version table
    assert main(["status", "--dsn", empty_dsn, "--json"]) == REFUSED
    assert json.loads(capsys.readouterr().out)["state_name"] == "unrecognised"

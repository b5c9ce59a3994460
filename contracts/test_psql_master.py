"""``psql -f 000_master_migration.sql`` exactly as the document runs it, from inside schema/ and from the repository
root, on an empty database, with the server's own psql; then the verification block through psql too."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from contracts.test_document_queries import VERIFICATION
from leadboost_schema.catalog.snapshot import diff, load_contract, snapshot
from leadboost_schema.server import Server


def psql_binary(server: Server) -> str:
    candidate = Path(server.bindir or "") / "psql"
    if server.bindir and candidate.is_file():
        return str(candidate)
    found = shutil.which("psql")
    if not found:
        pytest.skip(f"no psql next to the server ({server.bindir}) nor on PATH")
    return found


def psql(server: Server, dsn: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([psql_binary(server), "-X", "-v", "ON_ERROR_STOP=1", dsn, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("where", ["inside schema/", "repository root"])
def test_psql_master_migration_on_an_empty_database(leadboost_server, empty_dsn, schema_folder, where):
    if where == "inside schema/":
        cwd, script = schema_folder, "000_master_migration.sql"
    else:
        cwd, script = schema_folder.parent, f"{schema_folder.name}/000_master_migration.sql"
    done = psql(leadboost_server, empty_dsn, "-f", script, cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert "ERROR" not in done.stderr and "WARNING" not in done.stderr, done.stderr
    assert done.stdout.strip().endswith("are in place"), done.stdout
    again = psql(leadboost_server, empty_dsn, "-f", script, cwd=cwd)
    assert again.returncode == 0, again.stderr
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        assert diff(load_contract(), snapshot(conn)) == []


def test_psql_seed_then_verification_block(leadboost_server, empty_dsn, schema_folder):
    for script in ("000_master_migration.sql", "008_seed_data.sql"):
        done = psql(leadboost_server, empty_dsn, "-q", "-f", script, cwd=schema_folder)
        assert done.returncode == 0, done.stderr
    verification = psql(leadboost_server, empty_dsn, "-A", "-t", "-F", "|", "-c", VERIFICATION.strip(),
                        cwd=schema_folder)
    assert verification.returncode == 0, verification.stderr
    schemas, tables, foreign_keys, reservation = verification.stdout.split()
    assert (schemas, reservation) == ("7", "t|OK|2|100|10")
    assert 13 <= int(tables) <= 20 and int(foreign_keys) > 0


def test_psql_master_failure_leaves_nothing(leadboost_server, empty_dsn, schema_folder, tmp_path):
    """The master runs in one transaction: a failure half-way leaves the database as it was."""
    for name in schema_folder.iterdir():
        if name.is_file():  # schema/upgrades/ is not part of the master
            (tmp_path / name.name).write_bytes(name.read_bytes())
    broken = tmp_path / "006_schema_events.sql"
    broken.write_text(broken.read_text() + "\nSELECT 1/0;\n")
    done = psql(leadboost_server, empty_dsn, "-f", "000_master_migration.sql", cwd=tmp_path)
    assert done.returncode != 0 and "division by zero" in done.stderr
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname IN"
                            " ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration')"
                            ).fetchone() == (0,)

"""Backup and restore: a pg_dump -Fc of a seeded database restored with pg_restore -c gives back every table's rows
(equal data fingerprints) after the database was changed and emptied; a failed dump leaves no file."""
from __future__ import annotations

import psycopg
import pytest

from leadboost_schema.databases.backup import BackupError, dump_database, find_tool, restore_database
from leadboost_schema.testing.data_fingerprint import data_fingerprint


def test_dump_then_restore_gives_back_every_table(leadboost_seeded_conn, leadboost_seeded_dsn, make_tenant,
                                                  tmp_path):
    conn = leadboost_seeded_conn
    tenant = make_tenant(conn)
    conn.execute("INSERT INTO migration.raw_signals (tenant_id, firebase_id, signal_type, payload)"
                 " SELECT %s, 'fb' || n, 'page.view', jsonb_build_object('n', n) FROM generate_series(1, 500) AS n",
                 (tenant,))
    before = data_fingerprint(conn)
    assert sum(rows for rows, _ in before.values()) > 500

    dump = dump_database(leadboost_seeded_dsn, tmp_path / "pre_migration.dump")
    assert dump.read_bytes()[:5] == b"PGDMP", "custom format"
    conn.execute("DELETE FROM migration.raw_signals WHERE firebase_id LIKE 'fb1%'")
    conn.execute("UPDATE stock.inventory_items SET quantity_on_hand = quantity_on_hand + 1")
    conn.execute("DROP SCHEMA migration CASCADE")
    assert data_fingerprint(conn) != before

    restore_database(leadboost_seeded_dsn, dump)
    assert data_fingerprint(conn) == before


def test_a_failed_restore_changes_nothing(leadboost_conn, leadboost_dsn, tmp_path):
    before = data_fingerprint(leadboost_conn)
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"PGDMP" + b"\x00" * 100)
    with pytest.raises(BackupError, match="pg_restore"):
        restore_database(leadboost_dsn, broken)
    assert data_fingerprint(leadboost_conn) == before


def test_a_failed_dump_leaves_no_file(leadboost_dsn, tmp_path):
    missing = psycopg.conninfo.make_conninfo(leadboost_dsn, dbname="no_such_database_here")
    target = tmp_path / "x.dump"
    with pytest.raises(BackupError):
        dump_database(missing, target, bindir=find_tool("pg_dump", leadboost_dsn).parent)
    assert list(tmp_path.iterdir()) == []


def test_the_tools_match_the_server(leadboost_dsn, leadboost_server):
    import subprocess
    version = subprocess.run([find_tool("pg_dump", leadboost_dsn), "--version"], capture_output=True,
                             text=True, check=True).stdout
    assert int(version.split()[2].split(".")[0]) == leadboost_server.version // 10000

"""The CLI's rough edges of issue 15.6-15.7: a database without the schema, concurrent `up`s on one data folder,
malformed DSNs, the local-binaries hint, libpq's two-line messages; the contract verdict apart from the seed."""
from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from leadboost_schema.cli import dev_server, errors, main
from tests import test_cli
from tests.test_cli import _local_binaries_or_skip, cli, error_lines

data_root = test_cli.data_root  # the fixture: a data folder of `up`'s own, its servers stopped after

RESERVE_SEED = ("SELECT success FROM stock.reserve_inventory('11111111-1111-1111-1111-111111111111', "
                "'ACME-WIDGET-001', 10, 1)")


@pytest.fixture
def empty_database(leadboost_server) -> Iterator[str]:
    """A database without the schema, as `rollback --yes` or an `up` interrupted after CREATE DATABASE leave it."""
    name = f"lb_cli_empty_{secrets.token_hex(4)}"
    with psycopg.connect(leadboost_server.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield leadboost_server.dsn(name)
    with psycopg.connect(leadboost_server.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_verify_on_a_database_without_the_schema_is_one_line_and_exit_5(empty_database, capsys):
    assert main(["verify", "--dsn", empty_database]) == errors.SQL_FAILED
    captured = capsys.readouterr()
    (line,) = error_lines(captured.err, "verify")
    assert "has no leadboost schema" in line and "leadboost-schema migrate" in line
    assert "Traceback" not in captured.err and captured.out == ""


@pytest.mark.parametrize("dsn", ["port=notaport", "sslmode=bogus", "host=localhost port=99999999999"])
def test_a_malformed_dsn_is_bad_usage(dsn, capsys):
    assert main(["verify", "--dsn", dsn]) == errors.USAGE
    (line,) = error_lines(capsys.readouterr().err, "verify")
    assert line.startswith("leadboost-schema verify: bad DSN: invalid ") and "connection is bad" not in line


def test_connection_refused_reads_as_sentences(capsys):
    assert main(["verify", "--dsn", "host=127.0.0.1 port=1 connect_timeout=5"]) == errors.UNREACHABLE
    (line,) = error_lines(capsys.readouterr().err, "verify")
    assert "Connection refused. Is the server running" in line, line


def test_the_local_binaries_hint_names_the_clis_own_flag(data_root, capsys):
    assert main(["up", "--backend", "local", "--bindir", "/nonexistent-leadboost/bin"]) == errors.NO_SERVER
    (line,) = error_lines(capsys.readouterr().err, "up")
    assert "with --bindir" in line and "--leadboost-bindir" not in line
    done = cli("up", "--backend", "local", "--bindir", "/nonexistent-leadboost/bin")
    assert done.returncode == errors.NO_SERVER  # and the flag it names is one the CLI takes
    assert "unrecognized arguments" not in done.stderr


def test_two_concurrent_ups_on_one_data_folder_both_succeed(data_root: Path):
    """The second waits for the first (a lock on the data folder), then joins the server it started."""
    _local_binaries_or_skip()
    runs = [subprocess.Popen([sys.executable, "-m", "leadboost_schema", "up", "--backend", "local", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=300), *run.communicate()) for run in runs]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    reports = [json.loads(out) for _, out, _ in results]
    assert sorted(r["server"]["state"] for r in reports) == ["already running", "initialised and started"]
    assert len({r["database"] for r in reports}) == 1 and all(r["ok"] for r in reports)
    assert any("waiting for it to finish" in err for _, _, err in results)
    assert len(dev_server.instances(data_root)) == 1


def test_a_used_seed_is_not_a_schema_failure(leadboost_seeded_dsn, capsys):
    """The README's verification block run in psql commits its reservation: `verify` still passes (the catalog
    matches) and says the seed has been used; an absent seed likewise; a broken function still fails."""
    with psycopg.connect(leadboost_seeded_dsn, autocommit=True) as conn:
        assert conn.execute(RESERVE_SEED).fetchone() == (True,)
    assert main(["verify", "--dsn", leadboost_seeded_dsn]) == errors.OK
    out = capsys.readouterr().out
    assert "matches the contract (its seed data has been used)" in out
    assert "note 4. inventory reservation (must return success=true): seed data used, schema fine" in out
    assert main(["verify", "--dsn", leadboost_seeded_dsn, "--json"]) == errors.OK
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["seed_data"], report["contract"]["ok"]) == (True, "used", True)


def test_an_absent_seed_is_not_a_schema_failure(leadboost_dsn, capsys):
    assert main(["verify", "--dsn", leadboost_dsn, "--json"]) == errors.OK
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["seed_data"]) == (True, "absent")


def test_a_reservation_refused_on_an_untouched_seed_is_still_a_failure(leadboost_seeded_dsn, capsys):
    """A refusal while the seed item still looks as 008 left it (version 1, nothing reserved) is a wrong function,
    not a used seed. Stand-in for a wrong function the catalog cannot see: the item inserted anew (version 1,
    nothing reserved) with too little stock, so the document's reservation is refused."""
    with psycopg.connect(leadboost_seeded_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM stock.inventory_items WHERE sku = 'ACME-WIDGET-001'")
        conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, name, quantity_on_hand, quantity_reserved)"
                     " VALUES ('11111111-1111-1111-1111-111111111111', 'ACME-WIDGET-001', 'Widget', 5, 0)")
    assert main(["verify", "--dsn", leadboost_seeded_dsn]) == errors.DIFFERS
    assert "FAIL 4. inventory reservation" in capsys.readouterr().out

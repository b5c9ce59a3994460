"""The `leadboost-schema` CLI as people use it: up/verify/down on real servers, drift named after a hand-made change,
rollback's confirmation, and a one-line explanation (with its exit status) for each kind of bad input."""
from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from leadboost_schema.catalog import runbook
from leadboost_schema.cli import dev_server, errors, main
from leadboost_schema.errors import BackendUnavailable
from leadboost_schema.server.binaries import find_local
from leadboost_schema.server.settings import default_cache_dir


def cli(*args: str, env: dict[str, str] | None = None, stdin: int | None = subprocess.DEVNULL,
        ) -> subprocess.CompletedProcess[str]:
    """Run the command in a process of its own, as a user would (``python -m leadboost_schema`` = the script)."""
    return subprocess.run([sys.executable, "-m", "leadboost_schema", *args], capture_output=True, text=True,
                          env=env, stdin=stdin, timeout=300, check=False)


def error_lines(stderr: str, command: str) -> list[str]:
    """The error lines a command wrote (progress lines start with 'leadboost-schema:' and are not errors)."""
    return [line for line in stderr.splitlines() if line.startswith(f"leadboost-schema {command}:")]


@pytest.fixture
def data_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data folder of `up`'s own, where the server user can reach it (pytest's tmp_path is 0700 for root);
    every server started in it is stopped afterwards, whatever the test did."""
    root = default_cache_dir().parent / f"leadboost-cli-test-{secrets.token_hex(4)}"
    monkeypatch.setenv(dev_server.DATA_DIR_ENV, str(root))
    yield root
    for instance in dev_server.instances(root):
        dev_server.stop(instance)
    shutil.rmtree(root, ignore_errors=True)


def _tenant_names(conninfo: str) -> set[str]:
    with psycopg.connect(conninfo) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM iam.tenants")}


def _local_binaries_or_skip() -> None:
    try:
        find_local(None)
    except BackendUnavailable as error:
        pytest.skip(f"no local PostgreSQL binaries here: {error.reason}")


@pytest.mark.parametrize("backend", ["embedded", "local"])
def test_up_verify_down_on_a_local_server(backend: str, data_root: Path) -> None:
    """`up` leaves a running server with a seeded leadboost_ai that psql reaches with the printed string; a second
    `up` finds it running; `verify` agrees; `down` stops it and keeps the data."""
    if backend == "local":
        _local_binaries_or_skip()
    first = cli("up", "--backend", backend)
    assert first.returncode == 0, first.stderr
    assert "leadboost_ai is ready" in first.stdout
    assert "FAIL" not in first.stdout
    conninfo = next(line.split(": ", 1)[1] for line in first.stdout.splitlines()
                    if line.startswith("Connection string: "))
    assert _tenant_names(conninfo) >= {"ACME Corp", "Globex Corporation"}
    psql_line = next(line.strip() for line in first.stdout.splitlines() if line.strip().startswith("psql "))
    if shutil.which("psql"):
        reached = subprocess.run(psql_line + " -Atc 'SELECT count(*) FROM iam.tenants'", shell=True,
                                 capture_output=True, text=True, timeout=60, check=False)
        assert reached.returncode == 0, reached.stderr
        assert int(reached.stdout) >= 2

    again = cli("up", "--backend", backend, "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["server"]["state"] == "already running"
    assert report["database"] == conninfo and report["ok"] is True

    assert cli("verify").returncode == 0

    down = cli("down")
    assert down.returncode == 0 and f"stopped {backend}-pg" in down.stdout
    assert all(i.running_pid() is None for i in dev_server.instances(data_root))
    assert any((i.data / "PG_VERSION").exists() for i in dev_server.instances(data_root))


@pytest.fixture
def new_database(leadboost_server) -> Iterator[str]:
    """Conninfo of a database name that does not exist yet on the test server; dropped afterwards."""
    name = f"lb_cli_{secrets.token_hex(4)}"
    yield leadboost_server.dsn(name)
    with psycopg.connect(leadboost_server.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_up_with_a_dsn_creates_migrates_seeds_and_verifies(new_database: str, capsys) -> None:
    assert main(["up", "--dsn", new_database]) == 0
    out = capsys.readouterr().out
    assert "is ready" in out and "contract: matches" in out
    assert _tenant_names(new_database) >= {"ACME Corp"}
    assert main(["up", "--dsn", new_database, "--json"]) == 0  # idempotent: the second time changes nothing
    report = json.loads(capsys.readouterr().out)
    assert report["database_created"] is False
    assert [check["ok"] for check in report["verification"]] == [True, True, True, True]


def test_verify_passes_on_a_seeded_database_and_names_a_dropped_column(leadboost_seeded_dsn: str, capsys) -> None:
    assert main(["verify", "--dsn", leadboost_seeded_dsn]) == errors.OK
    assert "matches the contract" in capsys.readouterr().out
    with psycopg.connect(leadboost_seeded_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE migration.raw_signals DROP COLUMN payload")
    assert main(["verify", "--dsn", leadboost_seeded_dsn]) == errors.DIFFERS
    out = capsys.readouterr().out
    assert "DIFFERS from the contract" in out
    assert "missing  column migration.raw_signals.payload" in out
    assert main(["verify", "--dsn", leadboost_seeded_dsn, "--json"]) == errors.DIFFERS
    differences = json.loads(capsys.readouterr().out)["contract"]["differences"]
    assert {"kind": "missing", "object": "column migration.raw_signals.payload", "detail": ""} in differences


def test_verify_names_a_changed_type_and_a_revoked_grant(leadboost_seeded_dsn: str, capsys) -> None:
    with psycopg.connect(leadboost_seeded_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE iam.tenants ALTER COLUMN name TYPE varchar(300)")
        conn.execute("REVOKE SELECT ON stock.inventory_items FROM leadboost_app")
    assert main(["verify", "--dsn", leadboost_seeded_dsn]) == errors.DIFFERS
    out = capsys.readouterr().out
    assert 'changed  column iam.tenants.name: type: expected "text", found "character varying(300)"' in out
    assert "changed  table stock.inventory_items: grants: missing leadboost_app:SELECT" in out


def test_maintain_and_diag_run_the_documents_queries(leadboost_seeded_dsn: str, capsys) -> None:
    assert main(["diag", "--dsn", leadboost_seeded_dsn, "--json"]) == errors.OK
    diag = {r["title"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert diag["active sagas"]["sql"] == "SELECT * FROM sys.active_sagas;"
    balances = diag["consolidated balances"]["rows"]
    assert balances and {"tenant_id", "account_type", "balance"} == set(balances[0])
    assert main(["maintain", "--dsn", leadboost_seeded_dsn]) == errors.OK
    out = capsys.readouterr().out
    assert "failed sagas, last 7 days" in out and "migration validation report" in out


def test_rollback_refuses_without_a_terminal_or_yes(leadboost_seeded_dsn: str) -> None:
    done = cli("rollback", "--dsn", leadboost_seeded_dsn)
    assert done.returncode == errors.NOT_CONFIRMED
    assert error_lines(done.stderr, "rollback") == [
        ("leadboost-schema rollback: refusing to roll back without confirmation: stdin is not a terminal; "
         "pass --yes to confirm")]
    assert _tenant_names(leadboost_seeded_dsn)  # nothing was dropped


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rollback_asks_and_does_what_the_answer_says(leadboost_seeded_dsn: str, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal("no\n"))
    assert main(["rollback", "--dsn", leadboost_seeded_dsn]) == errors.NOT_CONFIRMED
    assert "rollback cancelled" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", _Terminal("yes\n"))
    assert main(["rollback", "--dsn", leadboost_seeded_dsn]) == errors.OK
    assert "Post-rollback checklist" in capsys.readouterr().out
    with psycopg.connect(leadboost_seeded_dsn) as conn:
        left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = ANY(%s)",
                            [["iam", "finanzas", "stock", "gobernanza", "sys", "events", "migration"]]).fetchone()
    assert left == (0,)
    assert main(["migrate", "--dsn", leadboost_seeded_dsn]) == errors.OK  # and back
    assert main(["verify", "--dsn", leadboost_seeded_dsn]) == errors.OK  # no seed: said, not a schema failure
    assert "note 4. inventory reservation (must return success=true): no seed data" in capsys.readouterr().out


@pytest.fixture
def weak_role(leadboost_server) -> Iterator[str]:
    """A login role with no privileges at all (cluster-wide, so uniquely named and dropped after)."""
    if leadboost_server.backend not in ("local", "embedded"):
        pytest.skip("needs a server of ours with trust authentication to log in as a new role")
    name = f"lb_cli_weak_{secrets.token_hex(3)}"
    with psycopg.connect(leadboost_server.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
    yield name
    with psycopg.connect(leadboost_server.admin_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def _as(conninfo: str, role: str) -> str:
    return psycopg.conninfo.make_conninfo(conninfo, user=role)


@pytest.mark.parametrize("case", ["unreachable", "missing database", "bad dsn", "no local server",
                                  "bindir is local", "bindir with embedded", "bindir with dsn"])
def test_bad_input_gets_one_line_and_its_exit_status(case: str, leadboost_server, data_root: Path, capsys) -> None:
    argv, code, says = {
        "unreachable": (["verify", "--dsn", "host=/nonexistent-leadboost user=postgres"], errors.UNREACHABLE,
                        "cannot reach PostgreSQL at /nonexistent-leadboost/leadboost_ai"),
        "missing database": (["diag", "--dsn", leadboost_server.dsn("lb_cli_no_such_db")], errors.UNREACHABLE,
                             'database "lb_cli_no_such_db" does not exist'),
        "bad dsn": (["verify", "--dsn", "hostx=nowhere"], errors.USAGE, "bad DSN"),
        "no local server": (["verify"], errors.UNREACHABLE, "no database given and no local server running"),
        # --bindir is never ignored: it picks the local backend, and clashes with the embedded one or a --dsn
        "bindir is local": (["up", "--bindir", "/nonexistent-leadboost"], errors.NO_SERVER,
                            "no local server: no initdb/pg_ctl/postgres found (looked in /nonexistent-leadboost)"),
        "bindir with embedded": (["up", "--backend", "embedded", "--bindir", "/x"], errors.USAGE,
                                 "the embedded backend ships its own"),
        "bindir with dsn": (["up", "--dsn", leadboost_server.dsn("postgres"), "--bindir", "/x"], errors.USAGE,
                            "--dsn uses an existing one"),
    }[case]
    assert main(argv) == code
    lines = error_lines(capsys.readouterr().err, argv[0])
    assert len(lines) == 1 and says in lines[0], lines
    if case == "missing database":
        assert "CREATE DATABASE lb_cli_no_such_db;" in lines[0]


def test_permission_denied_gets_the_documents_advice(leadboost_seeded_dsn: str, weak_role: str, capsys) -> None:
    assert main(["diag", "--dsn", _as(leadboost_seeded_dsn, weak_role)]) == errors.PERMISSION
    (line,) = error_lines(capsys.readouterr().err, "diag")
    assert "[42501] permission denied for schema" in line
    assert "GRANT USAGE ON SCHEMA iam, finanzas, stock, gobernanza, sys, events TO leadboost_app;" in line
    assert main(["verify", "--dsn", _as(leadboost_seeded_dsn, weak_role)]) == errors.PERMISSION
    assert len(error_lines(capsys.readouterr().err, "verify")) == 1


def test_migrate_without_privileges_says_what_the_scripts_need(new_database: str, weak_role: str,
                                                               capsys) -> None:
    with psycopg.connect(psycopg.conninfo.make_conninfo(new_database, dbname="postgres"), autocommit=True) as a:
        a.execute(sql.SQL("CREATE DATABASE {}").format(
            sql.Identifier(psycopg.conninfo.conninfo_to_dict(new_database)["dbname"])))
    assert main(["migrate", "--dsn", _as(new_database, weak_role)]) == errors.PERMISSION
    (line,) = error_lines(capsys.readouterr().err, "migrate")
    assert re.search(r"001_schema_iam\.sql:\d+ failed: \[42501\]", line), line


def test_python_dash_m_and_help_list_every_command() -> None:
    done = cli("--help")
    assert done.returncode == 0
    for command in ("up", "down", "verify", "migrate", "status", "contract", "seed", "rollback", "maintain", "diag",
                    "mutate"):
        assert f"    {command} " in done.stdout
    assert "exit status: 0 ok" in done.stdout


def test_the_cli_runs_the_documents_sql_verbatim() -> None:
    """Each query `verify`, `maintain` and `diag` run is, character for character, in the source document's blocks
    (the contract suite's copies, which it checks against RFC-PHOENIX-01 itself)."""
    from contracts import test_document_queries as document

    blocks = document.VERIFICATION + document.MAINTENANCE + document.DIAGNOSTICS
    for query in (*runbook.VERIFICATION, *runbook.MAINTENANCE, *runbook.DIAGNOSTICS):
        assert query.sql in blocks, query.title

"""`leadboost-schema migrate` as an operator runs it (in-process: connect, status, 000_master_migration.sql, status,
catalog snapshot against the contract): on a database already at head (the no-op every deploy pays) and on one
with one pending upgrade (a nullable column and its comment on stock.inventory_items, made in the head file too,
contract regenerated). Each round gets a new clone of the migrated template. Timed, never asserted on time.
Run: ``pytest benchmarks/test_migrate.py -p no:xdist --benchmark-only`` (LEADBOOST_BACKEND=local|embedded)."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import psycopg
import pytest

from contracts.schema_copies import add_upgrade, copy_schema
from contracts.test_schema_changes import CHANGES, STOCK
from leadboost_schema.catalog.snapshot import CONTRACT_PATH
from leadboost_schema.cli import main
from leadboost_schema.cli.errors import OK
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.paths import schema_dir
from leadboost_schema.upgrades.apply import migrate
from leadboost_schema.upgrades.regenerate import stale_files

pytestmark = pytest.mark.benchmark(group="migrate")
ROUNDS = 15


def _clones(benchmark, server, template: str, how: str, argv: list[str]) -> None:
    """``how``: "command" (the whole CLI command) or "master" (upgrades.apply.migrate alone: 000 and two status
    reads, no contract comparison) — the difference is the catalog snapshot and its comparison."""
    folder = Path(argv[argv.index("--schema-dir") + 1])
    with contextlib.ExitStack() as stack:
        def setup() -> tuple[tuple[str], dict]:
            return (stack.enter_context(fresh_database(server, template)),), {}

        def command(dsn: str) -> None:
            codes.append(main([*argv, "--dsn", dsn]))

        def master(dsn: str) -> None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                migrate(conn, folder)
            codes.append(OK)

        codes: list[int] = []
        benchmark.pedantic(command if how == "command" else master, setup=setup, rounds=ROUNDS, warmup_rounds=1)
    assert set(codes) == {OK}  # every round migrated (and, as a command, matched its contract)
    benchmark.extra_info.update(server_version=server.version, backend=server.backend, rounds=ROUNDS, how=how)


@pytest.mark.parametrize("how", ["command", "master"])
def test_migrate_up_to_date(benchmark, how, leadboost_server, leadboost_template, capsys):
    _clones(benchmark, leadboost_server, leadboost_template, how, ["migrate", "--schema-dir", str(schema_dir())])
    benchmark.extra_info["path"] = f"migrate_noop_{how}"


@pytest.mark.parametrize("how", ["command", "master"])
def test_migrate_one_pending_upgrade(benchmark, how, leadboost_server, leadboost_template, tmp_path: Path, capsys):
    folder = copy_schema(schema_dir(), tmp_path / "schema")
    contract = tmp_path / "contract.json"
    shutil.copyfile(CONTRACT_PATH, contract)
    edit, _, upgrade = CHANGES["note column"]
    (folder / STOCK).write_text(edit((folder / STOCK).read_text(encoding="utf-8")), encoding="utf-8")
    stale_files(leadboost_server, folder, contract, write=True)
    add_upgrade(folder, "0990_inventory_note.sql", upgrade(""))
    _clones(benchmark, leadboost_server, leadboost_template, how,
            ["migrate", "--schema-dir", str(folder), "--contract", str(contract), "--no-backup"])
    benchmark.extra_info["path"] = f"migrate_one_upgrade_{how}"

"""The committed derived files are fresh: contract.json, schema/upgrades/history.sql and pending.sql equal what
`leadboost-schema contract --write` would make from schema/ now, so a forgotten regeneration fails CI. Run on a copy
of schema/ and of the contract, so the checkout is never touched."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contracts.schema_copies import copy_schema
from leadboost_schema.catalog.snapshot import CONTRACT_PATH
from leadboost_schema.upgrades.regenerate import stale_files


@pytest.fixture
def copies(tmp_path: Path, schema_folder: Path) -> tuple[Path, Path]:
    contract = tmp_path / "contract.json"
    shutil.copyfile(CONTRACT_PATH, contract)
    return copy_schema(schema_folder, tmp_path / "schema"), contract


def test_committed_contract_and_generated_upgrade_files_are_fresh(leadboost_server, copies):
    folder, contract = copies
    stale = [path.name for path in stale_files(leadboost_server, folder, contract)]
    assert stale == [], f"run `leadboost-schema contract --write` and commit: {stale}"


def test_a_head_edit_or_a_new_upgrade_without_regeneration_is_stale(leadboost_server, copies):
    folder, contract = copies
    stock = folder / "003_schema_stock.sql"
    stock.write_text(stock.read_text(encoding="utf-8").replace("'Item identifier.'", "'The item identifier.'"),
                     encoding="utf-8")
    (folder / "upgrades" / "0990_note.sql").write_text(
        "-- release: 1.1.0\n-- transaction: file\n-- down: irreversible — test\n-- breaking: no\n"
        "COMMENT ON COLUMN stock.inventory_items.id IS 'The item identifier.';\n", encoding="utf-8")
    before = {p.name: p.read_text(encoding="utf-8") for p in (folder / "upgrades").glob("*.sql")}
    stale = sorted(path.name for path in stale_files(leadboost_server, folder, contract))
    assert stale == ["contract.json", "history.sql", "pending.sql"]
    assert {p.name: p.read_text(encoding="utf-8") for p in (folder / "upgrades").glob("*.sql")} == before


def test_contract_command_checks_then_writes(copies, capsys):
    from leadboost_schema.cli import main

    folder, contract = copies
    where = ["--schema-dir", str(folder), "--contract", str(contract)]
    stock = folder / "003_schema_stock.sql"
    stock.write_text(stock.read_text(encoding="utf-8").replace("'Item identifier.'", "'The item identifier.'"),
                     encoding="utf-8")
    assert main(["contract", "--check", *where]) == 1
    said = capsys.readouterr().out
    assert said.startswith("stale (run `leadboost-schema contract --write` and commit them): ")
    assert str(contract) in said and "history.sql" in said  # a comment is in the head fingerprint too
    assert main(["contract", "--write", *where]) == 0
    assert "The item identifier." in contract.read_text(encoding="utf-8")
    assert main(["contract", "--check", *where]) == 0
    assert main(["contract", "--check", "--schema-dir", str(folder)]) == 2  # never the packaged contract for a copy
    assert "pass --contract FILE" in capsys.readouterr().err

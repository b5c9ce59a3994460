"""The three schema changes of issue 11 on an existing database (built at head by `migrate` from a copy of
schema/): made only in the head file (the naive edit, contract regenerated) `migrate` exits 1 naming the drift and
saying a change needs an upgrade file; made as an upgrade file too, it is applied and the database equals the
contract (for the new parameter: one overload, the 4-argument calls still work). And an edited upgrade file the
database already applied is reported by `status` and refused by `migrate` (LB902)."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import psycopg
import pytest

from contracts.schema_copies import add_upgrade, copy_schema, regenerate
from leadboost_schema.catalog.snapshot import CONTRACT_PATH
from leadboost_schema.cli import main
from leadboost_schema.cli.errors import DIFFERS, OK, PENDING, REFUSED, SQL_FAILED
from leadboost_schema.testing.tenant_rows import make_tenant_rows
from leadboost_schema.upgrades.regenerate import stale_files

STOCK = "003_schema_stock.sql"
RESERVE_4 = "stock.reserve_inventory(uuid, text, integer, integer)"
RESERVE_5 = "stock.reserve_inventory(uuid, text, integer, integer, text)"


def add_note_column(text: str) -> str:
    text = text.replace("    updated_at        timestamptz NOT NULL DEFAULT now(),\n",
                        "    updated_at        timestamptz NOT NULL DEFAULT now(),\n    note              text,\n", 1)
    return text.replace("COMMENT ON COLUMN stock.inventory_items.updated_at",
                        "COMMENT ON COLUMN stock.inventory_items.note IS 'Free text about the item.';\n"
                        "COMMENT ON COLUMN stock.inventory_items.updated_at", 1)


def tighten_name_check(text: str) -> str:
    return text.replace("CHECK (length(name) BETWEEN 1 AND 200)", "CHECK (length(name) BETWEEN 1 AND 100)", 1)


def add_note_parameter(text: str) -> str:
    text = text.replace("stock.reserve_inventory(\n    p_tenant_id uuid,\n    p_sku text,\n    p_quantity integer,\n"
                        "    p_expected_version integer)",
                        "stock.reserve_inventory(\n    p_tenant_id uuid,\n    p_sku text,\n    p_quantity integer,\n"
                        "    p_expected_version integer,\n    p_note text DEFAULT NULL)", 1)
    return text.replace(RESERVE_4, RESERVE_5)


def parameter_upgrade(head: str) -> str:
    """DROP the old signature, then the new function as the head file now defines it, its comment and grants."""
    create = re.search(r"CREATE OR REPLACE FUNCTION stock\.reserve_inventory\(.*?\n\$\$;\n", head, re.S).group(0)
    comment = re.search(r"COMMENT ON FUNCTION stock\.reserve_inventory\(.*?\n", head).group(0)
    return (f"DROP FUNCTION {RESERVE_4};\n{create}{comment}"
            f"REVOKE ALL ON FUNCTION {RESERVE_5} FROM PUBLIC;\nGRANT EXECUTE ON FUNCTION {RESERVE_5} TO leadboost_app;\n")


CHANGES = {
    "note column": (add_note_column, "column stock.inventory_items.note",
                    lambda head: "ALTER TABLE stock.inventory_items ADD COLUMN note text;\n"
                                 "COMMENT ON COLUMN stock.inventory_items.note IS 'Free text about the item.';\n"),
    "tighter check": (tighten_name_check, "constraint stock.inventory_items.inventory_items_name_check",
                      lambda head: "ALTER TABLE stock.inventory_items DROP CONSTRAINT inventory_items_name_check,\n"
                                   "    ADD CONSTRAINT inventory_items_name_check CHECK (length(name) BETWEEN 1 AND 100);\n"),
    "new parameter": (add_note_parameter, "function stock.reserve_inventory", parameter_upgrade),
}


@pytest.fixture
def workspace(tmp_path: Path, schema_folder: Path) -> tuple[Path, Path]:
    """A copy of schema/ and of its contract, as a developer's checkout about to change them."""
    contract = tmp_path / "contract.json"
    shutil.copyfile(CONTRACT_PATH, contract)
    return copy_schema(schema_folder, tmp_path / "schema"), contract


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def overloads(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM pg_proc WHERE proname = 'reserve_inventory'"
                            " AND pronamespace = 'stock'::regnamespace").fetchone()[0]


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_reaches_an_existing_database_only_through_an_upgrade_file(change, leadboost_server, empty_dsn,
                                                                             workspace, capsys, tmp_path,
                                                                             monkeypatch):
    folder, contract = workspace
    edit, drifted, upgrade = CHANGES[change]
    at = ["--dsn", empty_dsn, "--schema-dir", str(folder), "--contract", str(contract)]
    assert run(capsys, "migrate", *at)[0] == OK  # the existing database, at head before the change
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        tenant = make_tenant_rows(conn).tenant_id

    head = folder / STOCK
    head.write_text(edit(head.read_text(encoding="utf-8")), encoding="utf-8")
    assert stale_files(leadboost_server, folder, contract, write=True)  # `contract --write`: the contract changed
    code, out, err = run(capsys, "migrate", *at)
    assert code == DIFFERS
    assert drifted in out and "no upgrade pending" in out
    assert "needs an upgrade file" in err and "schema/upgrades/NNNN_slug.sql" in out

    add_upgrade(folder, "0990_issue11_change.sql", upgrade(head.read_text(encoding="utf-8")))
    code, _, err = run(capsys, "migrate", *at, "--bindir", str(tmp_path / "no-binaries"))
    assert code == SQL_FAILED and "nothing was migrated" in err  # no backup, no upgrade
    assert run(capsys, "status", *at)[0] == PENDING
    monkeypatch.chdir(tmp_path)  # where the default pre-migration backup goes
    code, out, err = run(capsys, "migrate", *at)
    assert code == OK, out + err
    (backup,) = tmp_path.glob("backup_pre_migration-*.dump")  # taken by default: an upgrade was pending
    assert backup.stat().st_size > 0 and f"restore it with: leadboost-schema restore {backup.name}" in err
    assert "applied 0990_issue11_change.sql" in out and "the catalog equals the contract" in out
    assert run(capsys, "status", *at)[0] == OK
    assert overloads(empty_dsn) == 1
    with psycopg.connect(empty_dsn) as conn:  # the 1.0.0-shaped call still resolves
        assert conn.execute("SELECT success FROM stock.reserve_inventory(%s, 'SKU-1', 1, 1)",
                            (tenant,)).fetchone() == (True,)


def test_an_edited_applied_upgrade_is_reported_and_refused(empty_dsn, workspace, capsys):
    folder, contract = workspace
    at = ["--dsn", empty_dsn, "--schema-dir", str(folder), "--contract", str(contract)]
    assert run(capsys, "migrate", *at)[0] == OK
    with psycopg.connect(empty_dsn) as conn:
        recorded = conn.execute("SELECT * FROM sys.schema_upgrades ORDER BY upgrade").fetchall()
    edited = next(p for p in sorted((folder / "upgrades").glob("0001_*.sql")) if not p.name.endswith(".down.sql"))
    edited.write_text(edited.read_text(encoding="utf-8") + "-- a late fix\n", encoding="utf-8")
    regenerate(folder)

    code, out, _ = run(capsys, "status", *at, "--json")
    assert code == REFUSED
    assert json.loads(out)["edited"] == [edited.name]
    code, out, err = run(capsys, "migrate", *at)
    assert code == REFUSED
    (line,) = [x for x in err.splitlines() if x.startswith("leadboost-schema migrate:")]
    assert "[LB902]" in line and edited.name in line and "new upgrade file" in line
    with psycopg.connect(empty_dsn) as conn:
        assert conn.execute("SELECT * FROM sys.schema_upgrades ORDER BY upgrade").fetchall() == recorded

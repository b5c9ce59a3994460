"""Changing the installed schema or the service's SQL gives a new template on the next run, never a stale one:
each run here is a real `pytest` process on a copy of this service, and asks which template its tests got."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import leadboost_schema
from leadboost_schema.paths import schema_dir

SERVICE = Path(__file__).resolve().parent.parent
PROBE = '''
def test_probe(leadboost_template, leadboost_conn):
    columns = [r[0] for r in leadboost_conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'svc' AND table_name = 'orders'")]
    marker = leadboost_conn.execute("SELECT obj_description('stock.inventory_items'::regclass)").fetchone()[0]
    print(f"PROBE template={leadboost_template} note={'note' in columns} marker={'CHANGED' in marker}")
'''


@pytest.fixture
def service_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "service"
    shutil.copytree(SERVICE, copy, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.egg-info"))
    (copy / "tests").mkdir()
    (copy / "tests" / "test_probe.py").write_text(PROBE)
    return copy


def probe(service: Path, pythonpath: Path | None = None) -> tuple[str, bool, bool]:
    paths = [str(pythonpath)] if pythonpath else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths + [os.environ.get("PYTHONPATH", "")]).strip(os.pathsep)}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:xdist"], cwd=service, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    found = re.search(r"PROBE template=(\S+) note=(\w+) marker=(\w+)", done.stdout)
    assert done.returncode == 0 and found, done.stdout + done.stderr
    return found.group(1), found.group(2) == "True", found.group(3) == "True"


def test_a_changed_service_sql_or_installed_schema_gives_a_new_template(service_copy, tmp_path):
    first, has_note, changed = probe(service_copy)
    assert (has_note, changed) == (False, False)
    assert probe(service_copy)[0] == first  # nothing changed: the same template, reused

    # The service's SQL changes: a new column.
    orders = service_copy / "sql" / "schema" / "010_orders.sql"
    orders.write_text(orders.read_text() + "ALTER TABLE svc.orders ADD COLUMN IF NOT EXISTS note text;\n")
    second, has_note, changed = probe(service_copy)
    assert second != first and (has_note, changed) == (True, False)

    # The installed package changes (an upgrade of leadboost-schema): a copy of the installed package whose
    # schema differs, first on the import path of the next run.
    installed = Path(leadboost_schema.__file__).parent
    upgraded = tmp_path / "upgraded"
    shutil.copytree(installed, upgraded / "leadboost_schema", ignore=shutil.ignore_patterns("__pycache__"))
    if not (upgraded / "leadboost_schema" / "schema").is_dir():  # a source checkout keeps schema/ beside src/
        shutil.copytree(schema_dir(), upgraded / "leadboost_schema" / "schema")
    stock = upgraded / "leadboost_schema" / "schema" / "003_schema_stock.sql"
    stock.write_text(stock.read_text() + "\nCOMMENT ON TABLE stock.inventory_items IS 'CHANGED';\n")
    third, has_note, changed = probe(service_copy, pythonpath=upgraded)
    assert third not in (first, second) and (has_note, changed) == (True, True)

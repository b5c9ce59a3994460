"""Running mutants: each in a workspace of its own (the schema folder with the mutated file, and a copy of the
package whose ``contract.json`` is regenerated from the mutant, as are ``upgrades/history.sql`` and ``pending.sql``
— what a developer does after editing, so the catalog-equals-contract, generated-files-are-fresh and adopt-as-head
tests do not kill every mutant), its template built on the one shared server, and the
tests that exercise it run by pytest in a subprocess pointed at that server and workspace, ``-x``: the first
failure kills it. Several mutants run at once (``jobs``); a run longer than ``timeout`` counts as killed.

Within a mutant's pytest the tests are reordered (``pytest_order``), never selected: first those that killed
mutants of its objects earlier in the run (``killers``, when given), then those whose id names its object."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from leadboost_schema.catalog.snapshot import write_contract
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.databases.sql_files import SchemaFileError
from leadboost_schema.databases.templates import ensure_template
from leadboost_schema.mutation.killers import Killers
from leadboost_schema.mutation.mutants import Mutant, apply_edits
from leadboost_schema.mutation.pytest_order import FIRST as ORDER_FIRST
from leadboost_schema.mutation.pytest_order import NAMES as ORDER_NAMES
from leadboost_schema.mutation.test_map import TestMap
from leadboost_schema.server import Server
from leadboost_schema.server.our_databases import drop_database, schema_hash, template_names
from leadboost_schema.upgrades.files import HISTORY, UPGRADES
from leadboost_schema.upgrades.regenerate import write_generated_files

PACKAGE = Path(__file__).resolve().parents[1]
# Tests of the tests are not run against mutants: a broken-variant test ("…_is_caught", properties/broken_variants)
# edits the real function's text and fails when a mutant moved that text, which says nothing about behaviour.
META_TESTS = "not _is_caught"


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    status: str        # killed, timeout (counted as killed), survived, unviable (schema does not migrate), error
    seconds: float
    modules: tuple[str, ...]
    detail: str = ""   # the failing test, the migration error, or pytest's last line


@dataclass(frozen=True)
class RunConfig:
    project: Path          # the checkout: its contracts/ and properties/ are run, its schema/ is mutated
    server: Server
    test_map: TestMap
    timeout: float = 300.0
    jobs: int = 2
    hypothesis_seed: int = 0
    killers: Killers | None = None  # learned first tests (None: every module in map order, one pytest run)
    # mutant key → (modules a journaled survival already passed, the modules to run now): a stale survival
    # re-checked against only the test modules added since (journal.Fingerprints.modules_to_add)
    extend: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None


_live: set[subprocess.Popen] = set()
_stopping = threading.Event()


def run_all(config: RunConfig, mutants: list[Mutant], edits: dict[str, tuple[tuple[int, int, str], ...]],
            progress=None) -> list[Outcome]:
    def one(mutant: Mutant) -> Outcome:
        outcome = run_one(config, mutant, edits[mutant.id])
        if progress and not _stopping.is_set():
            progress(outcome)
        return outcome

    pool = ThreadPoolExecutor(max_workers=config.jobs)
    futures = [pool.submit(one, mutant) for mutant in mutants]
    try:
        return [future.result() for future in futures]
    except KeyboardInterrupt:  # Ctrl-C: start nothing new, stop the pytest runs in flight (and their children)
        _stopping.set()
        for future in futures:
            future.cancel()
        for process in list(_live):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        raise
    finally:
        pool.shutdown(wait=True)


def run_one(config: RunConfig, mutant: Mutant, mutant_edits: tuple[tuple[int, int, str], ...]) -> Outcome:
    started = time.monotonic()
    if _stopping.is_set():
        return Outcome(mutant, "error", 0.0, (), "interrupted")
    modules = tuple(config.test_map.modules_for(mutant))
    workspace = Path(tempfile.mkdtemp(prefix="lb_mutant_"))
    schema = workspace / "schema"
    try:
        try:
            prepare(config.server, config.project, workspace, mutant, mutant_edits)
        except (psycopg.Error, SchemaFileError) as error:  # the mutated schema does not even migrate
            return Outcome(mutant, "unviable", time.monotonic() - started, modules, _first_line(error))
        if not modules:
            return Outcome(mutant, "survived", time.monotonic() - started, modules, "no test names its object")
        passed, to_run = (config.extend or {}).get(mutant.key, ((), modules))
        first: list[str] = []
        if config.killers is not None:
            callers = set().union(*(config.test_map.callers.get(obj, frozenset()) for obj in mutant.objects))
            first = config.killers.first_for(mutant, callers, to_run)
        status, detail = _pytest(config, workspace, to_run, first, _own_names(mutant))
        if status == "killed" and config.killers is not None:
            config.killers.record(mutant, killer_node(detail), time.monotonic() - started)
        if status == "survived" and passed:
            detail = f"{detail} (+ {len(passed)} module(s) passed in an earlier run)"
        return Outcome(mutant, status, time.monotonic() - started, modules, detail)
    finally:
        _drop_templates(config.server, schema)
        shutil.rmtree(workspace, ignore_errors=True)


def prepare(server: Server, project: Path, workspace: Path, mutant: Mutant,
            edits: tuple[tuple[int, int, str], ...]) -> None:
    """Lay out the mutant's workspace and regenerate what a developer regenerates after editing the schema (the
    generated upgrade files, then the contract), leaving its template built on ``server``."""
    _lay_out(project, workspace, mutant, edits)
    schema = workspace / "schema"
    if (schema / UPGRADES / HISTORY).is_file():
        # Before the template: the generated files are part of the schema folder the template is keyed by. The
        # head fingerprint in history.sql covers every function body, CHECK and grant of 001-007, so a stale one
        # makes the master refuse a head installed file by file (LB904): a kill by bookkeeping, not behaviour.
        write_generated_files(server, schema)
    template = ensure_template(server, schema)
    with fresh_database(server, template) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        write_contract(conn, workspace / "src" / "leadboost_schema" / "catalog" / "contract.json")


def _lay_out(project: Path, workspace: Path, mutant: Mutant, edits: tuple[tuple[int, int, str], ...]) -> None:
    source = project / "schema"
    shutil.copytree(source, workspace / "schema")  # upgrades/ too: 000_master_migration.sql includes it
    target = workspace / "schema" / mutant.file
    target.write_text(apply_edits((source / mutant.file).read_text(encoding="utf-8"), edits), encoding="utf-8")
    # A copy, not symlinks: paths.schema_dir() and CONTRACT_PATH resolve from the module's real location.
    shutil.copytree(PACKAGE, workspace / "src" / "leadboost_schema",
                    ignore=shutil.ignore_patterns("__pycache__", "schema"))
    # Tests read files beside schema/ (docs/RFC-PHOENIX-01.es.md): the rest of the checkout, linked.
    for entry in project.iterdir():
        if entry.name not in ("schema", "src", ".git", ".mutation"):
            (workspace / entry.name).symlink_to(entry)


def killer_node(detail: str) -> str | None:
    """The failing test's node id in a killed outcome's detail (``FAILED contracts/x.py::test_y[p] - msg``)."""
    for prefix in ("FAILED ", "ERROR "):
        if detail.startswith(prefix):
            return detail[len(prefix):].split(" - ", 1)[0].strip() or None
    return None


def killer_module(detail: str) -> str | None:
    node = killer_node(detail)
    return node.split("::", 1)[0] if node else None


def _own_names(mutant: Mutant) -> list[str]:
    """The mutated objects' unqualified names (``finanzas.post_transaction`` → ``post_transaction``), as test ids
    spell them; a schema-wide one (``sys.`` of a grant) names nothing."""
    return [name for name in (obj.rpartition(".")[2].lower() for obj in mutant.objects) if len(name) > 3]


def _pytest(config: RunConfig, workspace: Path, modules: tuple[str, ...], first: list[str] | None = None,
            names: list[str] | None = None) -> tuple[str, str]:
    env = {**os.environ, "PYTHONPATH": str(workspace / "src"), "LEADBOOST_BACKEND": "dsn",
           "LEADBOOST_DSN": config.server.admin_dsn, "LEADBOOST_SCHEMA_DIR": str(workspace / "schema"),
           "LEADBOOST_POOL_SIZE": "1", "PYTHONDONTWRITEBYTECODE": "1",
           ORDER_FIRST: json.dumps(first or []), ORDER_NAMES: json.dumps(names or [])}
    # pytest_order only reorders the selected tests (killers learned so far, then tests naming the object): -x
    # then stops sooner on a killed mutant, and a survivor runs exactly the same tests.
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:xdist", "-p", "no:benchmark", "-p",
               "leadboost_schema.mutation.pytest_order", "--no-header", "-rfE",
               f"--hypothesis-seed={config.hypothesis_seed}", "-k", META_TESTS, *modules]
    process = subprocess.Popen(command, cwd=config.project, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    _live.add(process)
    try:
        output, _ = process.communicate(timeout=config.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: pytest and anything it started
        process.communicate()
        return "timeout", f"over {config.timeout:.0f} s"
    finally:
        _live.discard(process)
    lines = [line for line in output.splitlines() if line.strip()]
    if process.returncode == 0:
        return "survived", lines[-1] if lines else ""
    if process.returncode == 5:  # every selected test was a test of the tests (deselected): nothing ran
        return "survived", "no test ran"
    if process.returncode == 1:
        failed = next((line for line in lines if line.startswith(("FAILED ", "ERROR "))), lines[-1] if lines else "")
        return "killed", failed[:max(300, failed.find(" - "))]  # the node id whole: the journal keys on it
    return "error", f"pytest exit {process.returncode}: " + " | ".join(lines[-3:])[:300]


def _drop_templates(server: Server, schema: Path) -> None:
    if not schema.is_dir():
        return
    with psycopg.connect(server.admin_dsn, autocommit=True) as admin:
        for name in template_names(schema_hash(schema)):
            for building in (name, name + "_building"):
                exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (building,)).fetchone()
                if exists:
                    admin.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(
                        sql.Identifier(building)))
                    drop_database(admin, building)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]

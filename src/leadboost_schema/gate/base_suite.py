"""Base's own test suite, run for gate check 7 (``base-tests``): base's whole tree extracted from git, a schema
folder base's plugin can install that ends where head's upgrades lead (base's files, then head's new upgrade
files), and base's ``contracts``/``properties`` run on it by this Python in a subprocess, read back from JUnit XML.

Why a schema folder and not the upgraded clone itself: no release's plugin (1.0.0's nor head's) accepts an
existing database or template, only a schema folder to install; and 1.0.0's SQL runner knows only ``\\i``, ``\\ir``,
``\\set``, ``\\echo`` and applies the whole folder in one transaction, so ``CONCURRENTLY`` is dropped from the
upgrade files (harmless on the empty database a template starts from)."""
from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.server import Server
from leadboost_schema.server.settings import default_cache_dir
from leadboost_schema.upgrades.releases import ReleaseError, tree_at

SUITES = ("contracts", "properties")
TIMEOUT_S = 900.0
BASE_MASTER = "000_base_master.sql"
UPGRADES_DIR = "gate_upgrades"  # not base's upgrades/: base's own generated files there must stay as they are
_CONCURRENTLY = re.compile(r"\s+CONCURRENTLY\b", re.IGNORECASE)
_OUR_DIST = "leadboost-schema"
_WORSE = {"passed": 0, "skipped": 1, "failed": 2}


class BaseTreeError(RuntimeError):
    """Base's tree cannot be read or run (no git, unknown revision, no plugin of its own)."""


@dataclass(frozen=True)
class SuiteRun:
    """What base's suite did: ``outcomes`` node id → passed/failed/skipped, ``messages`` node id → the first line
    of a failure, pytest's exit code and the tail of its output (for a run that did not get to the tests)."""

    outcomes: dict[str, str]
    messages: dict[str, str]
    seconds: float
    exit_code: int
    tail: str
    timed_out: bool = False

    def count(self, outcome: str) -> int:
        return sum(value == outcome for value in self.outcomes.values())


def extract_tree(repo: Path, revision: str, dest: Path) -> Path:
    """Every file of ``revision`` of ``repo`` into ``dest``."""
    try:
        return tree_at(revision, repo, dest)
    except ReleaseError as error:
        raise BaseTreeError(str(error)) from None


def upgraded_schema(plan: GatePlan, dest: Path) -> Path:
    """A copy of base's schema folder whose ``000_master_migration.sql`` installs base, then includes each of head's
    new upgrade files in order (``CONCURRENTLY`` removed): base's plugin builds its templates from it as it would
    from its own schema, and they end equal to base upgraded by head."""
    folder = dest / "schema"
    shutil.copytree(plan.base_dir, folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "000_master_migration.sql").rename(folder / BASE_MASTER)
    (folder / UPGRADES_DIR).mkdir()
    lines = [f"\\ir {BASE_MASTER}\n"]  # no comment line: a release's runner may send it alone as a statement
    for upgrade in plan.new_upgrades:
        text = _CONCURRENTLY.sub("", upgrade.path.read_text(encoding="utf-8"))
        (folder / UPGRADES_DIR / upgrade.name).write_text(text, encoding="utf-8")
        lines.append(f"\\ir {UPGRADES_DIR}/{upgrade.name}\n")
    (folder / "000_master_migration.sql").write_text("".join(lines), encoding="utf-8")
    return folder


def plugin_arguments(tree: Path) -> list[str]:
    """``-p`` options that load base's pytest plugins from base's tree instead of the ones installed with head:
    every entry point of both disabled by name, base's modules (from its pyproject's ``pytest11`` table) loaded by
    module path. The names stay the same across releases, the module paths do not."""
    pyproject = tree / "pyproject.toml"
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise BaseTreeError(f"base's pyproject.toml cannot be read: {error}") from None
    base = table.get("project", {}).get("entry-points", {}).get("pytest11", {})
    if not base:
        raise BaseTreeError("base's pyproject.toml declares no pytest plugin ([project.entry-points.pytest11])")
    ours = {ep.name for ep in importlib.metadata.entry_points(group="pytest11")
            if ep.dist is not None and ep.dist.name == _OUR_DIST}
    disabled = [arg for name in sorted(ours | set(base)) for arg in ("-p", f"no:{name}")]
    return disabled + [arg for module in base.values() for arg in ("-p", module)]


def base_cache_dir() -> Path:
    """Base's plugin keeps its clusters apart from head's: its cache format may differ from this release's."""
    ours = default_cache_dir()
    return ours.with_name(ours.name + "-base-tests")


def run_suite(tree: Path, schema: Path, server: Server, suites: tuple[str, ...] = SUITES,
              timeout_s: float = TIMEOUT_S, workers: str = "auto") -> SuiteRun:
    """Base's ``suites`` run in ``tree`` on ``schema``, with base's sources first on the path and base's plugin
    starting its own server of the gate server's kind (``local``/``embedded``/…: same binaries, same version)."""
    report = tree / ".gate-base-tests.xml"
    command = [sys.executable, "-m", "pytest", *plugin_arguments(tree), "-q", "-p", "no:randomly", "-n", workers,
               f"--junitxml={report}", "-o", "junit_family=xunit1",
               f"--leadboost-schema-dir={schema}", f"--leadboost-backend={server.backend}",
               f"--leadboost-cache-dir={base_cache_dir()}"]
    if server.backend == "dsn":
        command.append(f"--leadboost-dsn={server.admin_dsn}")
    if server.backend == "local" and server.bindir:
        command.append(f"--leadboost-bindir={server.bindir}")
    # The flags above win over the environment; a service's own SQL (head's extra_sql) is no part of base's suite.
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEADBOOST_EXTRA_")}
    env.update(PYTHONPATH=str(tree / "src"), PYTHONDONTWRITEBYTECODE="1")
    env.setdefault("LEADBOOST_HYPOTHESIS_PROFILE", "ci")  # derandomized: the same examples every run
    started = time.monotonic()
    process = subprocess.Popen([*command, *suites], cwd=tree, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    timed_out = False
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: pytest, its workers and its server
        output, _ = process.communicate()
        timed_out = True
    seconds = time.monotonic() - started
    outcomes, messages = read_junit(report) if report.is_file() else ({}, {})
    tail = " | ".join(line for line in output.splitlines()[-5:] if line.strip())
    return SuiteRun(outcomes, messages, round(seconds, 1), process.returncode, tail[-600:], timed_out)


def read_junit(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Node id → outcome (the worst when a test is reported twice, e.g. passed then errored in teardown) and node
    id → the first line of its failure, from a ``junit_family=xunit1`` report (its ``file`` attribute gives the
    node id back: classname is the module path with dots, then any classes)."""
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    for case in ET.parse(path).iter("testcase"):
        nodeid = _nodeid(case)
        failure = next((case.find(tag) for tag in ("failure", "error") if case.find(tag) is not None), None)
        outcome = "failed" if failure is not None else "skipped" if case.find("skipped") is not None else "passed"
        if _WORSE[outcome] >= _WORSE[outcomes.get(nodeid, "passed")]:
            outcomes[nodeid] = outcome
        if failure is not None and nodeid not in messages:
            messages[nodeid] = (failure.get("message") or failure.text or "").strip().split("\n", 1)[0][:300]
    return outcomes, messages


def _nodeid(case: ET.Element) -> str:
    name, classname, file = case.get("name", ""), case.get("classname", ""), case.get("file")
    if not file:  # a collection error: no file, the module as the name
        return "::".join(part for part in (classname, name) if part)
    module = file.removesuffix(".py").replace("/", ".")
    inner = classname.removeprefix(module).strip(".")
    return "::".join([file, *(inner.split(".") if inner else []), name])

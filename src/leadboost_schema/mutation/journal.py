"""The journal of a mutation run: one JSON line per finished mutant, so a run interrupted (or spread over several
sessions) adds up to one report, and ``mutate --resume`` runs only the mutants whose verdict is not still valid.

A line is keyed by the mutant's *key* (``<file>:<operator>:<hash>``, stable when lines above it move) and carries a
fingerprint of what its verdict depends on:

* always: the mutated file's text (with the key, that fixes the mutated schema file), the conftest files and
  pytest settings, the Hypothesis seed and profile (the server's version is a field: ``--resume`` keeps only lines
  of the same major version);
* a **killed** mutant: the text of the one module whose test failed (helpers it imports included). Adding tests
  cannot revive it, so new or changed *other* modules leave it valid;
* a **survived** (or timed-out) mutant: the text of every module it ran, in a set — any new or changed test module
  it would run makes it stale;
* the package code those runs could execute: the package modules imported, transitively (``imports``: the static
  import graph), by the conftests, the pytest11 entry points, the runner (it regenerates the mutant's contract) and
  the test modules above — the killer alone for a kill, all of them for a survivor. ``mutation/`` and
  ``cli/mutate.py`` drive the run and are followed but not counted. An edit to a package module none of them
  imports (another command's code) leaves the line valid.

The other head files are deliberately left out: a change to 004 re-runs 004's mutants, not 002's. Errors (pytest
could not run) are not journaled: they say nothing about the mutant. The last valid line of a key wins.

A survival gone stale only because new test modules now map to its objects is not run again whole: ``--resume``
runs just the new modules (``modules_to_add``) and, if they pass too, journals the survival with every module."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from leadboost_schema.mutation.imports import ImportGraph
from leadboost_schema.mutation.mutants import Mutant
from leadboost_schema.mutation.runner import PACKAGE, Outcome, killer_module
from leadboost_schema.mutation.test_map import TestMap

# What drives the run, not what the tests run against: changing it does not change a verdict (package-relative).
_RUN_DRIVERS = ("mutation", "cli/mutate.py")
_CONFTESTS = ("conftest.py", "contracts/conftest.py", "properties/conftest.py")
_TEST_SETTINGS = (*_CONFTESTS, "pyproject.toml")
# Package modules every mutant's run loads besides the tests: the runner (it regenerates the mutant's contract and
# generated files) and the order plugin it passes to pytest with -p.
_RUNNER_MODULES = ("mutation/runner.py", "mutation/pytest_order.py")
JOURNALED = {"killed", "timeout", "survived", "unviable"}


def _digest(*parts: str) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode())
        sha.update(b"\0")
    return sha.hexdigest()[:16]


@dataclass(frozen=True)
class Fingerprints:
    """Computes the fingerprint of a verdict for one project checkout and run settings."""
    project: Path
    test_map: TestMap
    settings: str   # the Hypothesis seed and profile (the server's version is a field of the line)
    package: Path = PACKAGE  # the package the tests import (the runner copies it into each workspace)
    _code: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, project: Path, test_map: TestMap, hypothesis_seed: int, package: Path = PACKAGE) -> Fingerprints:
        profile = os.environ.get("LEADBOOST_HYPOTHESIS_PROFILE", "default")
        return cls(project, test_map, f"seed={hypothesis_seed} profile={profile}", package)

    def base(self, mutant: Mutant) -> str:
        return _digest(self.settings, _text(self.project / "schema" / mutant.file),
                       *(_text(self.project / name) for name in _TEST_SETTINGS))

    def code(self, modules: tuple[str, ...]) -> str:
        """The digest of the package modules a run of these test modules can execute (the module docstring)."""
        key = tuple(sorted(set(modules)))
        if key not in self._code:
            package = self.package.resolve()
            self._code[key] = _digest(*(f"{path.relative_to(package)}\n{_text(path)}"
                                        for path in self.code_files(key)))
        return self._code[key]

    def code_files(self, modules: tuple[str, ...]) -> list[Path]:
        """The package's files, not run drivers, that the conftests, entry points, runner and ``modules`` import."""
        graph = self._code.setdefault("graph", ImportGraph(self.project, self.package))
        roots = [self.project / name for name in (*_CONFTESTS, *modules)]
        roots += [self.package / name for name in _RUNNER_MODULES]
        roots += [file for name in graph.entry_points() for file in graph.module_files(name)]
        package = self.package.resolve()
        return sorted(path for path in graph.reached(roots)
                      if path.is_relative_to(package) and not _is_driver(path.relative_to(package)))

    def of_outcome(self, mutant: Mutant, status: str, modules: tuple[str, ...], detail: str) -> str:
        """The fingerprint the outcome depends on (see the module docstring), ``""`` when it cannot be kept."""
        if status == "killed":
            module = killer_module(detail)
            if module is None or module not in self.test_map.texts:
                return ""
            modules = (module,)
        elif status == "unviable":
            modules = ()
        texts = [f"{module}\n{self.test_map.texts.get(module, '?missing')}" for module in sorted(set(modules))]
        return _digest(self.base(mutant), self.code(modules), status, *texts)

    def still_valid(self, mutant: Mutant, entry: dict, modules: list[str]) -> bool:
        """True when the journaled verdict holds for the mutant with the tests it would run now."""
        status = entry.get("status")
        if status not in JOURNALED or not entry.get("fingerprint"):
            return False
        if status == "killed":
            if killer_module(entry.get("detail", "")) not in modules:
                return False
        elif status != "unviable" and sorted(set(entry.get("modules", ()))) != sorted(set(modules)):
            return False
        return self.of_outcome(mutant, status, tuple(entry.get("modules", ())),
                               entry.get("detail", "")) == entry["fingerprint"]


    def modules_to_add(self, mutant: Mutant, entry: dict, modules: list[str]) -> tuple[str, ...] | None:
        """For a journaled survival that went stale only because the mutant now runs modules it did not (new tests
        of its objects): those modules, in map order — the only ones a re-check has to run, since every module it
        did run is unchanged (the line's fingerprint still holds for them) and passed. ``None`` when the line cannot
        be extended: not a survival, stale for its own modules, or a module it ran is no longer run."""
        if entry.get("status") != "survived" or not entry.get("fingerprint"):
            return None
        ran = set(entry.get("modules", ()))
        missing = tuple(module for module in modules if module not in ran)
        if not missing or not ran <= set(modules):
            return None
        if self.of_outcome(mutant, "survived", tuple(entry.get("modules", ())),
                           entry.get("detail", "")) != entry["fingerprint"]:
            return None
        return missing


class Journal:
    """Append-only JSON lines; appends are serialised (one line per write, flushed), so a killed run loses at most
    the mutants in flight."""

    def __init__(self, path: Path, fingerprints: Fingerprints | None = None, server: str = "", jobs: int = 1,
                 run: str | None = None):
        self.path = path
        self.fingerprints = fingerprints
        self.server = server
        self.run = run or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.jobs = jobs
        self._lock = threading.Lock()

    def entries(self) -> dict[str, dict]:
        """key → the last line written for it."""
        return {entry["key"]: entry for entry in read_lines(self.path)}

    def record(self, outcome: Outcome) -> None:
        if outcome.status not in JOURNALED or self.fingerprints is None:
            return
        mutant = outcome.mutant
        fingerprint = self.fingerprints.of_outcome(mutant, outcome.status, outcome.modules, outcome.detail)
        line = {"key": mutant.key, "id": mutant.id, "status": outcome.status, "seconds": round(outcome.seconds, 1),
                "modules": list(outcome.modules), "detail": outcome.detail, "fingerprint": fingerprint,
                "run": self.run, "jobs": self.jobs, "server": self.server,
                "at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")


def read_lines(path: Path) -> list[dict]:
    """The journal's lines in order; a torn last line (the run was killed mid-write) is skipped."""
    if not path.is_file():
        return []
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and "key" in entry:
            lines.append(entry)
    return lines


def wall_seconds(entries: list[dict]) -> tuple[int, int]:
    """(runs, seconds): each run's wall time, from its start to its last journaled mutant, summed."""
    per_run: dict[str, str] = {}
    for entry in entries:
        run, at = entry.get("run"), entry.get("at")
        if run and at and at > per_run.get(run, ""):
            per_run[run] = at
    parse = dt.datetime.fromisoformat
    seconds = sum((parse(last.replace("Z", "+00:00")) - parse(run.replace("Z", "+00:00"))).total_seconds()
                  for run, last in per_run.items())
    return len(per_run), round(seconds)


def _is_driver(relative: Path) -> bool:
    return any(relative.parts[:len(Path(d).parts)] == Path(d).parts for d in _RUN_DRIVERS)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""

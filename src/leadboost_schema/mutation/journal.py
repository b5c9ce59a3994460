"""The journal of a mutation run: one JSON line per finished mutant, so a run interrupted (or spread over several
sessions) adds up to one report, and ``mutate --resume`` runs only the mutants whose verdict is not still valid.

A line is keyed by the mutant's *key* (``<file>:<operator>:<hash>``, stable when lines above it move) and carries a
fingerprint of what its verdict depends on:

* always: the mutated file's text (with the key, that fixes the mutated schema file), the package's code (the pytest
  plugin, fixtures, contract code — not ``mutation/`` and ``cli/``, which only drive the run), the conftest files
  and pytest settings, the Hypothesis seed and profile (the server's version is a field: ``--resume`` keeps only
  lines of the same major version);
* a **killed** mutant: the text of the one module whose test failed (helpers it imports included). Adding tests
  cannot revive it, so new or changed *other* modules leave it valid;
* a **survived** (or timed-out) mutant: the text of every module it ran, in a set — any new or changed test module
  it would run makes it stale.

The other head files are deliberately left out: a change to 004 re-runs 004's mutants, not 002's. Errors (pytest
could not run) are not journaled: they say nothing about the mutant. The last valid line of a key wins."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from leadboost_schema.mutation.mutants import Mutant
from leadboost_schema.mutation.runner import PACKAGE, Outcome, killer_module
from leadboost_schema.mutation.test_map import TestMap

# What drives the run, not what the tests run against: changing it does not change a verdict.
_RUN_DRIVERS = ("mutation", "cli")
_TEST_SETTINGS = ("conftest.py", "contracts/conftest.py", "properties/conftest.py", "pyproject.toml")
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

    @classmethod
    def of(cls, project: Path, test_map: TestMap, hypothesis_seed: int) -> Fingerprints:
        profile = os.environ.get("LEADBOOST_HYPOTHESIS_PROFILE", "default")
        return cls(project, test_map, f"seed={hypothesis_seed} profile={profile}")

    def base(self, mutant: Mutant) -> str:
        return _digest(self.settings, _text(self.project / "schema" / mutant.file), _package_digest(),
                       *(_text(self.project / name) for name in _TEST_SETTINGS))

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
        return _digest(self.base(mutant), status, *texts)

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


_package_cache: dict[str, str] = {}


def _package_digest() -> str:
    if "digest" not in _package_cache:
        files = sorted(path for path in PACKAGE.rglob("*.py")
                       if path.relative_to(PACKAGE).parts[0] not in _RUN_DRIVERS and "__pycache__" not in path.parts)
        _package_cache["digest"] = _digest(*(f"{p.relative_to(PACKAGE)}\n{_text(p)}" for p in files))
    return _package_cache["digest"]


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""

"""What a gate run compares: base's schema/ (a release or git revision, extracted from git) against head's (the
working tree), and the upgrade files head adds. Every check of the gate takes a ``GatePlan``."""
from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

from leadboost_schema.upgrades.files import Upgrade, load
from leadboost_schema.upgrades.releases import last_release, revision_of, schema_at


@dataclass(frozen=True)
class GatePlan:
    """``base``: how the base was named (``1.0.0``, ``origin/main``, or a folder); ``base_dir``/``head_dir``: the
    two schema folders; ``base_upgrades``/``head_upgrades``: their upgrade files in order; ``new_upgrades``: head's
    files whose name base lacks (what the change adds), in order; ``repo``/``revision``: the git repository and
    commit base was read from (None/"" when base is a folder: then base's own tests cannot be extracted)."""

    base: str
    base_dir: Path
    head_dir: Path
    base_upgrades: tuple[Upgrade, ...]
    head_upgrades: tuple[Upgrade, ...]
    repo: Path | None = None
    revision: str = ""

    @property
    def new_upgrades(self) -> tuple[Upgrade, ...]:
        known = {u.name for u in self.base_upgrades}
        return tuple(u for u in self.head_upgrades if u.name not in known)


def plan_between(base_dir: Path, head_dir: Path, base: str | None = None) -> GatePlan:
    """A plan for two schema folders already on disk (the corpus tests make head as base plus one file)."""
    return GatePlan(base or str(base_dir), base_dir, head_dir, tuple(load(base_dir)), tuple(load(head_dir)))


def plan_from_git(repo: Path, head_dir: Path, workdir: Path, base: str | None = None) -> GatePlan:
    """Base's schema folder read from ``repo``'s git history at ``base`` (default: the last release) into
    ``workdir``: the folder at head's path inside ``repo`` (``schema`` when head lies outside it)."""
    name = base or last_release()
    inside = head_dir.resolve().is_relative_to(repo.resolve())
    folder = head_dir.resolve().relative_to(repo.resolve()).as_posix() if inside else "schema"
    base_dir = schema_at(revision_of(name), repo, workdir / "base", folder)
    return dataclasses.replace(plan_between(base_dir, head_dir, name), repo=repo, revision=revision_of(name))


def schema_with_upgrade(schema_dir: Path, dest: Path, name: str, text: str,
                        down: tuple[str, str] | None = None) -> Path:
    """A copy of ``schema_dir`` in ``dest`` with one more upgrade file ``name`` holding ``text`` (and its down
    script ``(name, text)``). The generated history.sql/pending.sql are not rewritten here: regenerate them
    with ``upgrades.regenerate.stale_files(server, copy, contract_path, write=True)``."""
    copy = dest / "schema"
    shutil.copytree(schema_dir, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "upgrades" / name).write_text(text, encoding="utf-8")
    if down:
        (copy / "upgrades" / down[0]).write_text(down[1], encoding="utf-8")
    return copy

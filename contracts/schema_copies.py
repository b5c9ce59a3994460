"""Scratch copies of the schema folder for tests that change it: a copy, and an upgrade file added to it with the
generated history.sql / pending.sql rewritten as `leadboost-schema contract --write` would (the head fingerprint
is kept: only adoption reads it)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from leadboost_schema.upgrades.files import HISTORY, PENDING, UPGRADES, load, render_history, render_pending

HEADER = """-- {name} — a test upgrade.
-- release: {release}
-- transaction: {transaction}
-- down: irreversible — test data
-- breaking: no
"""


def copy_schema(source: Path, destination: Path) -> Path:
    shutil.copytree(source, destination)
    return destination


def add_upgrade(folder: Path, name: str, body: str, release: str = "1.1.0", transaction: str = "file") -> Path:
    """Write ``upgrades/<name>`` with a valid header and regenerate the two generated files."""
    path = folder / UPGRADES / name
    path.write_text(HEADER.format(name=name, release=release, transaction=transaction) + body, encoding="utf-8")
    regenerate(folder)
    return path


def regenerate(folder: Path) -> None:
    history = (folder / UPGRADES / HISTORY).read_text(encoding="utf-8")
    head = re.search(r"^\\set lb_fingerprint_head (\S+)$", history, re.M).group(1)
    upgrades = load(folder)
    (folder / UPGRADES / HISTORY).write_text(render_history(upgrades, head), encoding="utf-8")
    (folder / UPGRADES / PENDING).write_text(render_pending(upgrades), encoding="utf-8")

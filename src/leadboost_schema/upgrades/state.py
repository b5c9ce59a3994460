"""Where a database stands in the history: nothing installed, versioned (its sys.schema_upgrades rows), or built
before the version table (recognised by its catalog fingerprint) — and what a migrate would do to it."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from leadboost_schema.upgrades.files import HISTORY, UPGRADES, Upgrade, head_release, load

FINGERPRINT = "fingerprint.sql"
BASELINE = "baseline.sql"
_SET = re.compile(r"^\\set (\w+) (\S+)\s*$", re.M)


@dataclass(frozen=True)
class Recorded:
    upgrade: str
    release: str
    checksum: str
    how: str
    applied_at: str
    duration_ms: float | None


@dataclass
class Status:
    """``state``: empty, versioned or unversioned; for unversioned, ``adoptable_as`` is 1.0.0, head or None."""

    state: str
    head_release: str
    recorded: list[Recorded] = field(default_factory=list)
    pending: list[Upgrade] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    fingerprint: str | None = None
    adoptable_as: str | None = None

    @property
    def release(self) -> str | None:
        """The release the database is at, when it is at one."""
        if self.state == "versioned":
            done = [r.release for r in self.recorded]
            return done[-1] if done else None
        return self.adoptable_as if self.adoptable_as != "head" else self.head_release

    def as_dict(self) -> dict[str, object]:
        return {"state": self.state, "release": self.release, "head_release": self.head_release,
                "recorded": [vars(r) for r in self.recorded], "pending": [u.name for u in self.pending],
                "edited": self.edited, "unknown": self.unknown, "fingerprint": self.fingerprint,
                "adoptable_as": self.adoptable_as}


def catalog_fingerprint(conn: psycopg.Connection, schema_dir: Path) -> str:
    """upgrades/fingerprint.sql's md5 of the catalog (its psql lines left out)."""
    text = (schema_dir / UPGRADES / FINGERPRINT).read_text(encoding="utf-8")
    query = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("\\"))
    return conn.execute(query.encode()).fetchone()[0]


def known_fingerprints(schema_dir: Path) -> dict[str, str]:
    """fingerprint -> what it is (1.0.0, or head) from baseline.sql and the generated history.sql."""
    found: dict[str, str] = {}
    for name in (BASELINE, HISTORY):
        path = schema_dir / UPGRADES / name
        if path.is_file():
            for variable, value in _SET.findall(path.read_text(encoding="utf-8")):
                if variable.startswith("lb_fingerprint_1_0_0"):
                    found[value] = "1.0.0"
                elif variable == "lb_fingerprint_head":
                    found[value] = "head"
    return found


def read_status(conn: psycopg.Connection, schema_dir: Path) -> Status:
    """Read-only: what the database holds and what 000_master_migration.sql would do with it."""
    upgrades = load(schema_dir)
    status = Status("empty", head_release(upgrades))
    versioned, installed = conn.execute(
        "SELECT to_regclass('sys.schema_upgrades') IS NOT NULL, to_regnamespace('iam') IS NOT NULL").fetchone()
    if versioned:
        status.state = "versioned"
        rows = conn.execute(
            "SELECT upgrade, release, checksum, how, applied_at::text,"
            " extract(epoch FROM duration) * 1000 FROM sys.schema_upgrades ORDER BY applied_at, upgrade").fetchall()
        status.recorded = [Recorded(*row[:5], float(row[5]) if row[5] is not None else None) for row in rows]
        by_name = {u.name: u for u in upgrades}
        done = {r.upgrade: r for r in status.recorded}
        status.pending = [u for u in upgrades if u.name not in done]
        status.edited = [r.upgrade for r in status.recorded
                         if r.upgrade in by_name and by_name[r.upgrade].checksum != r.checksum]
        status.unknown = [r.upgrade for r in status.recorded
                          if re.match(r"^\d{4}_", r.upgrade) and r.upgrade not in by_name]
    elif installed:
        status.state = "unversioned"
        status.fingerprint = catalog_fingerprint(conn, schema_dir)
        status.adoptable_as = known_fingerprints(schema_dir).get(status.fingerprint)
        status.pending = list(upgrades) if status.adoptable_as == "1.0.0" else []
    else:
        status.pending = []
    return status

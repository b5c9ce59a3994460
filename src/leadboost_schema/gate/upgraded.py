"""The filled base upgraded by head's real path (``upgrades.apply.migrate``), once per gate run: checks 2 (upgrade
equals fresh), 3 (data kept) and 6 (old clients) read the same upgraded clone, so the expensive migrate runs once.
What the base held is read on the clone just before the upgrade, over the columns base had."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg

from leadboost_schema.databases.sql_files import SchemaFileError
from leadboost_schema.gate.build import Databases
from leadboost_schema.gate.findings import Finding
from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.testing.data_fingerprint import Fingerprint, kept_rows, table_columns
from leadboost_schema.upgrades.apply import UpgradeRefused, migrate


@dataclass
class Upgraded:
    """``dsn``: the upgraded clone (read-only for its users); ``failure``: why the upgrade stopped (then the clone
    holds whatever was committed before, and the checks that need head say so instead of comparing)."""

    dsn: str
    base_columns: dict[str, list[str]]
    base_kept: Fingerprint
    seconds: float = 0.0
    durations_ms: dict[str, float] = field(default_factory=dict)  # per applied upgrade, from sys.schema_upgrades
    failure: str = ""  # one line: file:line, SQLSTATE, message
    failed_file: str = ""


@contextlib.contextmanager
def upgraded_base(dbs: Databases, plan: GatePlan) -> Iterator[Upgraded]:
    """``with upgraded_base(dbs, plan) as up:`` a clone of the filled base brought to head by ``migrate``."""
    with dbs.clone("base") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            upgraded = _upgrade(conn, dsn, plan)
        # The connection is closed: the checks open their own on ``upgraded.dsn`` while the clone lives.
        yield upgraded


def _upgrade(conn: psycopg.Connection, dsn: str, plan: GatePlan) -> Upgraded:
    columns = table_columns(conn)
    upgraded = Upgraded(dsn, columns, kept_rows(conn, columns))
    started = time.monotonic()
    try:
        done = migrate(conn, plan.head_dir)
        upgraded.durations_ms = {r.upgrade: round(r.duration_ms or 0.0, 1) for r in done.applied}
    except UpgradeRefused as error:
        upgraded.failure = f"refused with SQLSTATE {error.sqlstate}: {error}"
    except SchemaFileError as error:
        cause = error.__cause__
        state = cause.diag.sqlstate if isinstance(cause, psycopg.Error) else "none"
        upgraded.failed_file = error.path.name if error.path else ""
        # The runner's message starts with the full path: the file name says enough in a report.
        message = str(error).strip().splitlines()[0].replace(f"{error.path}", upgraded.failed_file)
        upgraded.failure = f"SQLSTATE {state}: {message}"
    upgraded.seconds = round(time.monotonic() - started, 2)
    return upgraded


def failure_finding(check: str, upgraded: Upgraded) -> Finding:
    """The error a check reports when the upgrade itself failed."""
    return Finding(check, "error", upgraded.failed_file or "000_master_migration.sql",
                   f"the upgrade of the filled base failed: {upgraded.failure}",
                   "make the upgrade succeed on data the base release can hold (every domain, several tenants)")

"""Bringing a database to head: 000_master_migration.sql through the psql-compatible runner (the same path
``psql -f`` takes), with the refusals turned into errors that say what to do."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from leadboost_schema.databases.sql_files import MASTER_MIGRATION, SchemaFileError, apply_sql_file
from leadboost_schema.upgrades.state import Recorded, Status, read_status

# SQLSTATEs 000_master_migration.sql refuses with (schema/README.md, "Error codes").
REFUSALS = {"LB902": "released upgrade edited", "LB903": "database is newer", "LB904": "matches no release"}


class UpgradeRefused(RuntimeError):
    """The master migration refused the database (LB902–LB904); nothing was changed."""

    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@dataclass
class MigrateResult:
    before: Status
    after: Status
    applied: list[Recorded]


def migrate(conn: psycopg.Connection, schema_dir: Path, echo: Callable[[str], None] | None = None) -> MigrateResult:
    """Apply what is pending (installing head on an empty database, adopting a 1.0.0 one first)."""
    before = read_status(conn, schema_dir)
    try:
        apply_sql_file(conn, schema_dir / MASTER_MIGRATION, echo=echo)
    except SchemaFileError as error:
        cause = error.__cause__
        if isinstance(cause, psycopg.Error) and cause.diag.sqlstate in REFUSALS:
            _rollback_quietly(conn)
            raise UpgradeRefused(cause.diag.sqlstate, cause.diag.message_primary or str(error)) from None
        _rollback_quietly(conn)
        raise
    after = read_status(conn, schema_dir)
    done = {r.upgrade for r in before.recorded}
    return MigrateResult(before, after, [r for r in after.recorded if r.upgrade not in done and r.how == "upgrade"])


def _rollback_quietly(conn: psycopg.Connection) -> None:
    """The runner stops at the error like psql; a psql session would end there, ours rolls back instead."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.execute("ROLLBACK")
    conn.execute("SELECT pg_advisory_unlock_all()")

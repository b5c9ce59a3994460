"""Trying statements that should be refused, cheaply: each in a savepoint of one transaction the caller rolls back,
as the owner or as ``leadboost_app`` bound to a tenant.

    with rolled_back(conn):                       # BEGIN … ROLLBACK: nothing a test does here survives it
        with acting_as(conn, tenant_id):          # SET LOCAL ROLE leadboost_app + app.tenant_id, undone after
            result = attempt(conn, "UPDATE …")    # in a savepoint: an error is returned, not raised
        assert result.sqlstate == "42501"

The transaction is what isolates one check from the next; ``conn`` may autocommit or not.
"""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg

APP_ROLE = "leadboost_app"


@dataclass
class Attempt:
    """What a statement did: its rows and row count, or the error it raised (then ``rows`` is None)."""

    rows: list[tuple] | None
    rowcount: int
    error: psycopg.Error | None

    @property
    def sqlstate(self) -> str | None:
        return self.error.sqlstate if self.error is not None else None

    @property
    def message(self) -> str:
        return self.error.diag.message_primary or "" if self.error is not None else ""

    def __str__(self) -> str:
        if self.error is None:
            return f"no error ({self.rowcount} rows: {self.rows!r:.200})"
        return f"{self.sqlstate}: {self.message}"


def attempt(conn: psycopg.Connection, statement: Any, params: Any = None, undo: bool = False) -> Attempt:
    """Run ``statement`` (or a list of statements, ``params`` going to the last) in a savepoint; on error roll back
    to it and return the error instead of raising. ``undo=True`` rolls the savepoint back after a success too (try something without keeping its effects)."""
    statements = list(statement) if isinstance(statement, (list, tuple)) else [statement]
    try:
        with conn.transaction() as savepoint:
            for earlier in statements[:-1]:
                conn.execute(earlier)
            cursor = conn.execute(statements[-1], params)
            result = Attempt(cursor.fetchall() if cursor.description else None, cursor.rowcount, None)
            if undo:
                raise psycopg.Rollback(savepoint)
    except psycopg.Error as error:
        return Attempt(None, -1, error)
    return result


@contextlib.contextmanager
def rolled_back(conn: psycopg.Connection) -> Iterator[psycopg.Connection]:
    """One transaction for the block, rolled back at its end whatever happened (an ``attempt`` inside it is a
    savepoint, never a transaction of its own that would commit)."""
    with conn.transaction(force_rollback=True):
        yield conn


@contextlib.contextmanager
def acting_as(conn: psycopg.Connection, tenant_id: uuid.UUID | str | None,
              role: str = APP_ROLE) -> Iterator[psycopg.Connection]:
    """Inside a transaction: the block runs as ``role`` with ``app.tenant_id`` set to ``tenant_id`` ('' unbound;
    a str is set as given, so malformed bindings can be tried); back to the session user afterwards."""
    # set_config(..., true) is SET LOCAL: one round trip in, one out.
    conn.execute("SELECT set_config('role', %s, true), set_config('app.tenant_id', %s, true)",
                 (role, "" if tenant_id is None else str(tenant_id)))
    try:
        yield conn
    finally:
        # In an aborted transaction the caller's rollback undoes the role and the binding.
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
            conn.execute("SELECT set_config('role', 'none', true), set_config('app.tenant_id', '', true)")

"""Per-example isolation for Hypothesis tests, where function-scoped fixtures are not reset between examples.

Two ways, both on connections opened once per test and reused by every example:
* ``with example() as conn:`` one transaction rolled back when the example ends (single-session examples);
* ``with example.tenant(sessions=3) as scope:`` a fresh committed tenant per example plus ``sessions`` extra
  connections (for concurrent examples: their work must commit to be seen, so it cannot be rolled back; since all
  data is tenant-scoped, a new tenant is a clean slate). Sessions are rolled back/cancelled when the example ends.
"""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
from psycopg.pq import TransactionStatus

from leadboost_schema.testing.factories import make_tenant


@dataclass
class ExampleScope:
    """What one example works in: its tenant, the control connection and its session connections."""

    tenant_id: uuid.UUID
    conn: psycopg.Connection
    sessions: list[psycopg.Connection] = field(default_factory=list)


class ExampleIsolation:
    """The ``leadboost_example`` fixture: isolation per Hypothesis example inside one test's fresh database."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._conn: psycopg.Connection | None = None
        self._sessions: list[psycopg.Connection] = []

    @property
    def conn(self) -> psycopg.Connection:
        """The control connection (autocommit), opened on first use."""
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.dsn, autocommit=True)
        return self._conn

    @contextlib.contextmanager
    def __call__(self) -> Iterator[psycopg.Connection]:
        """A transaction on the control connection, rolled back when the example ends, whatever happened."""
        conn = self.conn
        reset_connection(conn)
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            reset_connection(conn)

    @contextlib.contextmanager
    def tenant(self, sessions: int = 0, name: str | None = None) -> Iterator[ExampleScope]:
        """A new tenant (committed) and ``sessions`` reusable extra connections for one example."""
        while len(self._sessions) < sessions:
            self._sessions.append(psycopg.connect(self.dsn, autocommit=True))
        conn = self.conn
        reset_connection(conn)
        scope = ExampleScope(make_tenant(conn, name), conn, self._sessions[:sessions])
        try:
            yield scope
        finally:
            for session in [conn, *scope.sessions]:
                reset_connection(session)

    def close(self) -> None:
        for conn in [self._conn, *self._sessions]:
            if conn is not None:
                conn.close()
        self._sessions.clear()


def reset_connection(conn: psycopg.Connection) -> None:
    """Leave ``conn`` idle outside any transaction: cancel a running statement, roll back an open one."""
    status = conn.info.transaction_status
    if status == TransactionStatus.ACTIVE:
        conn.cancel_safe()
    if status == TransactionStatus.IDLE:
        return
    if conn.autocommit:
        conn.execute("ROLLBACK")
    else:
        conn.rollback()

"""The application during an upgrade: client threads, each its own session as ``leadboost_app`` bound to a tenant of
its own (as the app binds one: ``app.tenant_id``), calling the previous release's public functions in a loop
(``testing.release_data.public_round``) and recording every call's start, end and error. Each client stops after
the first whole round it started once the upgrade was over, so every client also proves a round on the new schema.
"""
from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field

import psycopg

from leadboost_schema.testing.release_data import public_round, release_tenant

APP_ROLE = "leadboost_app"
APPLICATION_NAME = "leadboost-gate-load"
# Stock for this many rounds per item: more than any upgrade lasts, so reservations keep taking row locks.
STOCKED_ROUNDS = 5_000
_FUNCTION = re.compile(r"\b(\w+\.\w+)\s*\(")
_TABLE = re.compile(r"\bfrom\s+(\w+\.\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class CallRecord:
    """One statement a client ran: wall-clock start and end (``time.time()``), and the SQLSTATE and message of its
    error ("" when it succeeded)."""

    client: int
    pid: int
    what: str
    started: float
    ended: float
    sqlstate: str = ""
    message: str = ""

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def what_is_called(query: str) -> str:
    """The function a statement calls (or the table it reads): how calls are grouped in the report."""
    found = _FUNCTION.search(query) or _TABLE.search(query)
    return found.group(1) if found else " ".join(query.split())[:40]


@dataclass
class Workload:
    """``clients`` sessions on ``dsn``. ``start()`` makes their tenants (as the connecting user, the owner) and
    starts them; it returns once every client finished a first round. ``finish()`` after the upgrade: the clients
    end after one more whole round and are joined."""

    dsn: str
    clients: int
    calls: list[CallRecord] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _upgraded_at: float | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _warm: threading.Barrier | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, timeout: float = 60.0) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as owner, owner.transaction():
            tenants = [release_tenant(owner, STOCKED_ROUNDS) for _ in range(self.clients)]
        self._warm = threading.Barrier(self.clients + 1, timeout=timeout)
        for index, tenant in enumerate(tenants):
            thread = threading.Thread(target=self._client, args=(index, tenant), name=f"gate-load-{index}",
                                      daemon=True)
            self._threads.append(thread)
            thread.start()
        self._warm.wait()

    def finish(self, timeout: float = 60.0) -> None:
        self._upgraded_at = time.time()
        for thread in self._threads:
            thread.join(timeout)
        if any(thread.is_alive() for thread in self._threads):
            self.failures.append(f"a client did not finish its round within {timeout:.0f} s of the upgrade's end")

    def _client(self, index: int, tenant: uuid.UUID) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True, application_name=f"{APPLICATION_NAME}-{index}") as conn:
                conn.execute(f"SET ROLE {APP_ROLE}")
                conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))
                with self._lock:
                    self.pids.append(conn.info.backend_pid)
                self._rounds(conn, index, tenant)
        except Exception as error:  # noqa: BLE001 — a client that dies is reported, never hides the others' results
            self.failures.append(f"client {index}: {type(error).__name__}: {error}")
            if self._warm is not None:
                self._warm.abort()

    def _rounds(self, conn: psycopg.Connection, index: int, tenant: uuid.UUID) -> None:
        pid = conn.info.backend_pid

        def call(query: str, params: tuple) -> psycopg.Cursor:
            started = time.time()
            try:
                cursor = conn.execute(query, params)
            except psycopg.Error as error:
                self.calls.append(CallRecord(index, pid, what_is_called(query), started, time.time(),
                                             error.sqlstate or "", (error.diag.message_primary or str(error))))
                raise
            self.calls.append(CallRecord(index, pid, what_is_called(query), started, time.time()))
            return cursor

        n = 0
        while True:
            began = time.time()
            try:
                public_round(call, tenant, n)
            except psycopg.Error:
                pass  # recorded by call(); the next round starts afresh (each call is its own transaction)
            n += 1
            if n == 1:
                self._warm.wait()
            upgraded_at = self._upgraded_at
            if upgraded_at is not None and began >= upgraded_at:
                return

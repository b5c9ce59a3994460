"""How long application sessions waited for locks while an upgrade ran, read from a monitor session that polls
``pg_locks`` (ungranted locks of the watched backends, with ``waitstart``, PostgreSQL 14+) and
``pg_blocking_pids``. A wait runs from its ``waitstart`` to the first poll that no longer sees it (an upper bound,
at most one poll interval late; ``blocked_seconds`` clips it to the end of the call that waited). Waits shorter than
a poll interval may go unseen: they are below any threshold worth reporting. The migrating session's current
statement is sampled with each wait, so a wait names the upgrade statement it waited for."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psycopg

POLL_INTERVAL_S = 0.005
_SAMPLE = """
SELECT l.pid, extract(epoch FROM l.waitstart)::float8, extract(epoch FROM clock_timestamp())::float8,
       pg_catalog.pg_blocking_pids(l.pid), m.query
  FROM pg_catalog.pg_locks AS l
  LEFT JOIN pg_catalog.pg_stat_activity AS m ON m.pid = %s
 WHERE NOT l.granted AND l.pid = ANY(%s)"""


@dataclass
class LockWait:
    """One wait of one backend (``pid``) for a lock, in client wall-clock seconds; ``blockers``: the pids it waited
    for; ``migrator_statement``: what the migrating session was running when the wait was first seen."""

    pid: int
    started: float
    last_seen: float
    ended: float | None = None
    exact: bool = True  # started is pg_locks.waitstart (else the poll that first saw it)
    blockers: set[int] = field(default_factory=set)
    migrator_statement: str = ""

    @property
    def end(self) -> float:
        return self.ended if self.ended is not None else self.last_seen


@dataclass
class LockWaitMonitor:
    """Polls from its own session in a thread between ``start()`` and ``stop()``; ``waits`` holds what it saw."""

    dsn: str
    pids: list[int]
    migrator_pid: int
    waits: list[LockWait] = field(default_factory=list)
    polls: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _open: dict[int, LockWait] = field(default_factory=dict)
    _offset: float = 0.0  # client clock minus server clock
    error: str = ""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gate-lock-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        try:
            with psycopg.connect(self.dsn, autocommit=True, application_name="leadboost-gate-monitor") as conn:
                before = time.time()
                server = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()[0]
                self._offset = (before + time.time()) / 2 - server
                while not self._stop.is_set():
                    self._poll(conn)
                    self._stop.wait(POLL_INTERVAL_S)
                self._poll(conn)
        except psycopg.Error as error:
            self.error = f"{error.sqlstate} {error}"
        for wait in self._open.values():
            wait.ended = None  # still waiting at the last poll: its end is the last time it was seen
        self._open.clear()

    def _poll(self, conn: psycopg.Connection) -> None:
        rows = conn.execute(_SAMPLE, (self.migrator_pid, self.pids)).fetchall()
        self.polls += 1
        now = time.time()
        seen = set()
        for pid, waitstart, server_now, blockers, statement in rows:
            at = server_now + self._offset
            started = waitstart + self._offset if waitstart is not None else None
            wait = self._open.get(pid)
            if wait is not None and started is not None and wait.exact and abs(wait.started - started) > 1e-3:
                wait.ended = started  # a backend waits for one lock at a time: the earlier wait is over
                wait = None
            if wait is None:
                wait = LockWait(pid, started if started is not None else at, at, exact=started is not None,
                                migrator_statement=statement or "")
                self._open[pid] = wait
                self.waits.append(wait)
            elif started is not None and not wait.exact:  # waitstart was not set yet when first seen
                wait.started, wait.exact = started, True
            wait.last_seen = at
            wait.blockers.update(blockers or [])
            seen.add(pid)
        for pid in [pid for pid in self._open if pid not in seen]:
            self._open.pop(pid).ended = now


def blocked_seconds(waits: list[LockWait], pid: int, started: float, ended: float) -> tuple[float, LockWait | None]:
    """Time backend ``pid`` spent waiting for locks between ``started`` and ``ended`` (one call), and its longest
    wait."""
    total, longest, longest_s = 0.0, None, 0.0
    for wait in waits:
        if wait.pid != pid:
            continue
        span = min(wait.end, ended) - max(wait.started, started)
        if span > 0:
            total += span
            if span > longest_s:
                longest, longest_s = wait, span
    return total, longest

"""Seeing a concurrent session block, as PostgreSQL's isolation tester does: an observer connection polls
``pg_blocking_pids`` (a short back-off between polls, never a sleep that stands in for the wait itself) until the
backend waits on a lock or the thread running its call has finished."""
from __future__ import annotations

import threading
import time

import psycopg

POLL_S = 0.005


def wait_until_blocked(observer: psycopg.Connection, pid: int, worker: threading.Thread | None = None,
                       timeout: float = 10.0) -> bool:
    """True once backend ``pid`` waits on a lock another backend holds; False if ``worker`` (the thread running
    its call) finished first. An AssertionError after ``timeout`` seconds of neither."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if observer.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", (pid,)).fetchone()[0]:
            return True
        if worker is not None and not worker.is_alive():
            return False
        time.sleep(POLL_S)
    raise AssertionError(f"backend {pid} neither waited on a lock nor returned within {timeout:.0f} s")

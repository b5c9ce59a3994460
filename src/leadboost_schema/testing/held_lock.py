"""A pinned interleaving of calls behind a held row lock, as PostgreSQL's isolation tester would run it: a holder
session locks rows; each call is started in its own session, in order, and seen waiting on a lock (or done) before
the next starts; then the holder commits and every call finishes. Two calls may queue behind the one holder —
which :mod:`leadboost_schema.testing.interleaving` never allows, as their wake order races — so the answers must
not depend on it; a wrong lock order shows as one call ending in 40P01 whichever wakes first. Used by the
lock-order contracts (contracts/test_governance_lock_order.py)."""
from __future__ import annotations

import threading
from collections.abc import Sequence

import psycopg

from leadboost_schema.testing.lock_waits import wait_until_blocked

Call = tuple[str, str, Sequence[object]]  # (name, statement, parameters)


def run_behind_held_lock(dsn: str, hold: str, hold_params: Sequence[object],
                         calls: Sequence[Call]) -> tuple[list[tuple[str, str]], dict[str, object]]:
    """(what each call was seen doing before the next started, "waiting" or "done"; each call's first row, or its
    SQLSTATE when it raised). Deadlocks are detected in 100 ms where the role may set deadlock_timeout (a superuser);
    no wait here depends on that."""
    sessions = {name: psycopg.connect(dsn, autocommit=True) for name, _, _ in calls}
    answers: dict[str, object] = {}
    seen: list[tuple[str, str]] = []
    try:
        for conn in sessions.values():
            try:
                conn.execute("SET deadlock_timeout = '100ms'")
            except psycopg.errors.InsufficientPrivilege:
                pass
        with psycopg.connect(dsn, autocommit=True) as observer, psycopg.connect(dsn) as holder:
            holder.execute(hold, hold_params)

            def call(name: str, statement: str, params: Sequence[object]) -> None:
                try:
                    answers[name] = sessions[name].execute(statement, params).fetchone()
                except psycopg.Error as error:
                    answers[name] = error.sqlstate

            workers = []
            for name, statement, params in calls:
                worker = threading.Thread(target=call, args=(name, statement, params))
                worker.start()
                workers.append(worker)
                blocked = wait_until_blocked(observer, sessions[name].info.backend_pid, worker)
                seen.append((name, "waiting" if blocked else "done"))
            holder.commit()
            for worker in workers:
                worker.join(timeout=30)
    finally:
        for conn in sessions.values():
            conn.close()
    return seen, answers

"""Reports on one saga are serialised (sys.lock_saga: "locks the saga row, serialising every report on it"; found by
the mutation run: the lock could be dropped with every other test passing).

An exact interleaving, no sleep: session 1 makes a report and keeps its transaction open; session 2 reports on the
same step meanwhile and is seen waiting (pg_blocking_pids); session 1 commits. Session 2 must then judge the saga as
session 1 left it: its report is a duplicate or late one — applied = false, nothing changed, no error (README: duplicate
and late reports change nothing). Judging the saga as read before the wait would apply the report a second time
(or fail with LB502 on the step's transition trigger).
"""
from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

STEPS = '["reserve", "charge", "ship"]'
REPORT = {
    "success": "SELECT applied, saga_state, step_status FROM sys.record_step_success(%s, %s, %s, '{\"ok\": 1}')",
    "failure": "SELECT applied, saga_state, step_status FROM sys.record_step_failure(%s, %s, %s, 'it broke')",
    "compensated": "SELECT applied, saga_state, step_status FROM sys.record_compensation_done(%s, %s, %s)",
}


def _wait_until_blocked_or_done(observer: psycopg.Connection, pid: int, worker: threading.Thread,
                                timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if observer.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", (pid,)).fetchone()[0]:
            return True
        if not worker.is_alive():
            return False
        time.sleep(0.005)
    raise AssertionError(f"backend {pid} neither waited on a lock nor returned")


def _state(conn, tenant: uuid.UUID, saga: uuid.UUID) -> tuple:
    return conn.execute("SELECT s.state, s.failed_step, array_agg(st.status ORDER BY st.step_index)"
                        " FROM sys.sagas AS s JOIN sys.saga_steps AS st ON st.tenant_id = s.tenant_id"
                        " AND st.saga_id = s.id WHERE s.tenant_id = %s AND s.id = %s GROUP BY s.state, s.failed_step",
                        (tenant, saga)).fetchone()


# (reports before, the step both sessions report on, what session 1 reports, what session 2 reports)
PAIRS = [
    ((), 1, "success", "success"),
    ((), 1, "success", "failure"),
    ((), 1, "failure", "success"),
    ((("success", 1),), 2, "failure", "failure"),
    ((("success", 1), ("success", 2)), 3, "success", "failure"),
    ((("success", 1), ("success", 2), ("failure", 3)), 2, "compensated", "compensated"),
    ((("success", 1), ("failure", 2)), 1, "compensated", "compensated"),
]


@pytest.mark.parametrize(("before", "step", "first", "second"), PAIRS,
                         ids=[f"{len(b)}-before-step{s}-{f}-then-{t}" for b, s, f, t in PAIRS])
def test_a_report_made_during_another_on_the_same_saga_waits_and_is_a_duplicate(leadboost_dsn, make_tenant, before,
                                                                                 step, first, second):
    """Rule: two reports on the same step of a saga, the second made while the first is uncommitted: the second
    waits for the first, then answers applied = false with the state the first left, and changes nothing."""
    with psycopg.connect(leadboost_dsn, autocommit=True) as observer:
        tenant = make_tenant(observer)
        saga = observer.execute("SELECT sys.start_saga(%s, 'order.place', %s)", (tenant, STEPS)).fetchone()[0]
        for kind, index in before:
            observer.execute(REPORT[kind], (tenant, saga, index))
        with psycopg.connect(leadboost_dsn) as one, psycopg.connect(leadboost_dsn, autocommit=True) as two:
            applied, *after_first = one.execute(REPORT[first], (tenant, saga, step)).fetchone()  # uncommitted
            assert applied is True
            left_by_first = _state(one, tenant, saga)
            answer: dict[str, object] = {}

            def report() -> None:
                try:
                    answer["said"] = two.execute(REPORT[second], (tenant, saga, step)).fetchone()
                except psycopg.Error as error:
                    answer["said"] = f"{error.sqlstate}: {error.diag.message_primary}"

            worker = threading.Thread(target=report)
            worker.start()
            waited = _wait_until_blocked_or_done(observer, two.info.backend_pid, worker)
            one.commit()
            worker.join(timeout=30)
        assert (waited, answer.get("said")) == (True, (False, *after_first))
        assert _state(observer, tenant, saga) == left_by_first

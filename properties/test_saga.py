"""Saga compensation: competing workers report step outcomes, duplicates and late reports included."""
from __future__ import annotations

import functools
import uuid

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from leadboost_schema.testing import strategies as lb
from leadboost_schema.testing.attempts import attempt, rolled_back
from leadboost_schema.testing.interleaving import Step
from properties.broken_variants import COMPENSATION_WITHOUT_IDEMPOTENCY_GUARD, install
from properties.hypothesis_settings import PROPERTY, find_counterexample
from properties.models.saga import ALLOWED, STATES, STEP_ALLOWED, STEP_STATUSES, Refused, Saga
from properties.transactions import (
    IN_FAILED_TRANSACTION,
    assert_errors_among,
    committed,
    make_scripts,
    outcomes,
    scenario,
)

REAL = "sys"
BROKEN = "broken"
FUNCTION = {"success": "record_step_success", "failure": "record_step_failure",
            "compensated": "record_compensation_done"}


@functools.cache
def operations(steps: int) -> st.SearchStrategy:
    """A worker's move: do what the saga asks next (its step succeeds or fails, or compensate), repeat its last
    report, or send a late report of any step."""
    advance = st.tuples(st.just("advance"), st.sampled_from(("success", "failure")))
    return st.one_of(
        advance, advance, advance,
        st.just(("again",)),
        st.tuples(st.just("late"), st.sampled_from(tuple(FUNCTION)), st.integers(1, steps)),
    )


def saga_steps(tenant: uuid.UUID, saga: uuid.UUID, functions: str, last: dict[str, tuple[str, int]]):
    def report(conn, session: str, kind: str, k: int):
        last[session] = (kind, k)
        try:
            row = conn.execute(f"SELECT * FROM {functions if kind == 'compensated' else 'sys'}.{FUNCTION[kind]}"
                               "(%s, %s, %s)", (tenant, saga, k)).fetchone()
        except psycopg.Error as refusal:
            refusal.report = (kind, k)  # what was refused, for the check of refusals against the model
            raise
        return (kind, k, *row)

    def step_of(session: str, op) -> Step:
        if op[0] == "advance":
            def advance(conn):
                _, step, compensation = conn.execute(
                    "SELECT s.state, a.next_step, a.next_compensation_step FROM sys.sagas AS s"
                    " LEFT JOIN sys.active_sagas AS a USING (id) WHERE s.id = %s", (saga,)).fetchone()
                if compensation is not None:
                    return report(conn, session, "compensated", compensation)
                return report(conn, session, op[1], step or 1)  # a finished saga gets a late report
            return Step(f"advance ({op[1]})", advance)
        if op[0] == "again":
            return Step("again", lambda conn: report(conn, session, *last.get(session, ("success", 1))))
        return Step(f"late {op[1]} {op[2]}", lambda conn: report(conn, session, op[1], op[2]))
    return step_of


def saga_scenario(conn, tenant: uuid.UUID, names: list[str], scripts, functions: str = REAL):
    """Start a saga of ``names`` for ``tenant``; return its id and the scenario of the scripts against it."""
    saga = conn.execute("SELECT sys.start_saga(%s, 'order', %s)", (tenant, Jsonb(names))).fetchone()[0]
    return saga, scenario(scripts, saga_steps(tenant, saga, functions, {}))


def check_compensation(scheduler, conn, make_tenant, data, functions: str, steps: tuple[int, int] = (1, 4),
                       max_transactions: int = 3, max_ops: int = 2) -> None:
    tenant = make_tenant(conn)
    names = data.draw(lb.make_step_names(steps[1], min_steps=steps[0]), label="steps")
    scripts = data.draw(make_scripts(operations(len(names)), tuple(scheduler.names), max_ops=max_ops,
                                     max_transactions=max_transactions),
                        label="scripts")
    saga, story = saga_scenario(conn, tenant, names, scripts, functions)
    trace = scheduler.run(story, data)
    assert_errors_among(trace, {"LB504", "LB505", "LB506", "LB507"})

    check_refusals(trace, scripts, len(names))
    model = Saga(len(names))
    compensations: list[int] = []
    for outcome in committed(trace, scripts):
        for event in outcome.events:
            kind, k, applied, state, status, next_step, next_compensation = event.result
            before = model.state
            try:
                expected_applied = model.report(kind, k)
            except Refused as refusal:
                raise AssertionError(f"{outcome.session}.{event.step} reported {kind} {k} and committed; the "
                                     f"coordinator must refuse it with {refusal}\n{trace}") from None
            expected = (expected_applied, model.state, model.status[k], model.next_step(),
                        model.next_compensation())
            assert (applied, state, status, next_step, next_compensation) == expected, (
                f"{outcome.session}.{event.step} ({kind} {k}) answered {event.result[2:]}; the model says "
                f"{expected}\n{trace}")
            assert (before, state) in ALLOWED or not applied, f"illegal transition {before} → {state}\n{trace}"
            if applied and kind == "compensated":
                compensations.append(k)

    rows = conn.execute("SELECT step_index, status FROM sys.saga_steps WHERE saga_id = %s ORDER BY step_index"
                        " ", (saga,)).fetchall()
    assert dict(rows) == model.status, f"steps are {rows}, the model says {model.status}\n{trace}"
    failed = [k for k, status in model.status.items() if status == "FAILED"]
    if failed:  # exactly the completed steps before the failure, in reverse order, once each
        due = list(range(failed[0] - 1, 0, -1))
        assert compensations == due[:len(compensations)], f"compensated {compensations}, due {due}\n{trace}"
        by_time = [k for (k,) in conn.execute(
            "SELECT step_index FROM sys.saga_steps WHERE saga_id = %s AND status = 'COMPENSATED'"
            " ORDER BY compensated_at", (saga,))]
        assert by_time == compensations, f"compensated in the order {by_time}\n{trace}"


def check_refusals(trace, scripts, steps: int) -> None:
    """Every refused report is one the model refuses, with the same SQLSTATE, in the state the report saw: the
    transactions committed before it, then its own transaction's earlier reports (it locks the saga first)."""
    every = outcomes(trace, scripts)
    for outcome in every:
        for index, event in enumerate(outcome.events):
            if not event.failed or event.sqlstate == IN_FAILED_TRANSACTION:
                continue
            kind, k = event.exception.report
            model = Saga(steps)
            seen = [e for o in every if o.committed and o.end < outcome.positions[index] for e in o.events]
            for earlier in seen + outcome.events[:index]:
                model.report(*earlier.result[:2])
            try:
                model.report(kind, k)
            except Refused as refusal:
                assert refusal.args[0] == event.sqlstate, (
                    f"{outcome.session}.{event.step} ({kind} {k}) was refused with {event.sqlstate}; the model "
                    f"refuses it with {refusal}\n{trace}")
            else:
                raise AssertionError(f"{outcome.session}.{event.step} ({kind} {k}) was refused with "
                                     f"{event.sqlstate}; the model accepts it\n{trace}")


@PROPERTY
@given(data=st.data())
def test_competing_workers_compensate_exactly_the_completed_steps(two_sessions, leadboost_conn, make_tenant,
                                                                  data):
    """Invariant (saga compensation): for any saga and any interleaving of reports from two competing workers
    — doing what the saga asks next, repeating their last report, or reporting late — replayed in commit order
    through the model: every report's answer (applied, saga state, step status, next step, next compensation)
    is the model's, and every refused report (LB504–LB507) is one the model refuses with the same code; states move
    only along allowed transitions and COMPLETED/FAILED are final; when step k
    fails, exactly steps k-1..1 are compensated, in that order, each once."""
    check_compensation(two_sessions, leadboost_conn, make_tenant, data, REAL)


def test_a_compensation_without_its_idempotency_guard_is_caught(two_sessions, leadboost_conn, make_tenant):
    """The property can fail: when a repeated compensation report is answered 'applied' again, Hypothesis
    finds a worker told to compensate a step twice and shrinks it to that duplicate (searching sagas of two
    steps with up to four reports per transaction, where it takes about a hundred examples)."""
    install(leadboost_conn, COMPENSATION_WITHOUT_IDEMPOTENCY_GUARD)

    find_counterexample(
        lambda data: check_compensation(two_sessions, leadboost_conn, make_tenant, data, BROKEN, steps=(2, 2),
                                        max_ops=4),
        match=r"\(compensated 1\) answered \(True, .*the model says \(False, ")


# --- one report at a time, refusals included ----------------------------------------------------------------------

ADVANCE = st.tuples(st.just("advance"), st.sampled_from(("success", "success", "failure")))  # what the saga asks next


@PROPERTY
@given(steps=st.integers(1, 4), reports=st.lists(st.one_of(
    ADVANCE, ADVANCE, st.tuples(st.sampled_from(tuple(FUNCTION)), st.integers(1, 4))), max_size=14))
def test_every_report_is_answered_or_refused_as_the_model_says(leadboost_example, make_tenant, steps, reports):
    """Invariant (saga transitions): for any saga and any sequence of reports (success, failure, compensation
    done, of any step, in any order, mixed with the reports the saga asks for next), each is answered (applied, saga state, step status, next step, next
    compensation) or refused (LB504 out of order, LB506 nothing to compensate, LB507 compensation out of order)
    exactly as the model says; the state moves only along allowed transitions, COMPLETED and FAILED never change
    again, and the stored steps are the model's."""
    with leadboost_example() as conn:
        tenant = make_tenant(conn)
        saga = conn.execute("SELECT sys.start_saga(%s, 'order', %s)",
                            (tenant, Jsonb([f"step{k}" for k in range(1, steps + 1)]))).fetchone()[0]
        model, story = Saga(steps), []
        for kind, k in reports:
            if kind == "advance":
                kind, k = (("compensated", model.next_compensation()) if model.next_compensation() else
                           (k, model.next_step() or steps))
            k = min(k, steps)
            before = model.state
            answer = attempt(conn, f"SELECT * FROM sys.{FUNCTION[kind]}(%s, %s, %s)", (tenant, saga, k))
            try:
                expected = model.report(kind, k)
                expected = (expected, model.state, model.status[k], model.next_step(), model.next_compensation())
            except Refused as refusal:
                expected = refusal.args[0]
            said = answer.sqlstate or answer.rows[0]
            story.append(f"{kind} {k} -> {said}")
            assert said == expected, f"the model says {expected}:\n" + "\n".join(story)
            assert (before, model.state) in ALLOWED or before == model.state
            state = conn.execute("SELECT state FROM sys.sagas WHERE id = %s", (saga,)).fetchone()[0]
            assert state == model.state and (before not in ("COMPLETED", "FAILED") or state == before), (
                f"stored {state}, was {before}:\n" + "\n".join(story))
        rows = dict(conn.execute("SELECT step_index, status FROM sys.saga_steps WHERE saga_id = %s", (saga,)))
        assert rows == model.status, f"steps are {rows}, the model says {model.status}:\n" + "\n".join(story)


# --- direct writes: the transition triggers -----------------------------------------------------------------------

def saga_columns(state: str) -> tuple:
    """failed_step and completed_at as the CHECK constraints want them in ``state``."""
    return (1 if state in ("COMPENSATING", "FAILED") else None,
            "now" if state in ("COMPLETED", "FAILED") else None)


@pytest.mark.parametrize(("old", "new"), [(a, b) for a in STATES for b in STATES])
def test_a_direct_update_moves_a_saga_only_along_an_allowed_transition(leadboost_conn, make_tenant, old, new):
    """Every pair of saga states: a direct UPDATE from ``old`` to ``new`` (the row otherwise valid) is accepted
    exactly when the model allows the transition — COMPLETED and FAILED are final — else refused with LB502."""
    tenant = make_tenant(leadboost_conn)
    with rolled_back(leadboost_conn) as conn:
        saga = conn.execute("INSERT INTO sys.sagas (tenant_id, saga_type, state, step_count, failed_step,"
                            " completed_at) VALUES (%s, 'order', %s, 1, %s, %s) RETURNING id",
                            (tenant, old, *saga_columns(old))).fetchone()[0]
        failed_step, completed_at = saga_columns(new)
        answer = attempt(conn, "UPDATE sys.sagas SET state = %s, failed_step = %s, completed_at = %s"
                               " WHERE id = %s", (new, failed_step, completed_at, saga))
        assert answer.sqlstate == (None if (old, new) in ALLOWED else "LB502"), f"{old} → {new}: {answer}"


def step_columns(status: str) -> tuple:
    return tuple("now" if status in statuses else None
                 for statuses in (("SUCCEEDED", "COMPENSATED"), ("FAILED",), ("COMPENSATED",)))


@pytest.mark.parametrize(("old", "new"), [(a, b) for a in STEP_STATUSES for b in STEP_STATUSES])
def test_a_direct_update_moves_a_step_only_along_an_allowed_transition(leadboost_conn, make_tenant, old, new):
    """Every pair of step statuses: a direct UPDATE from ``old`` to ``new`` is accepted exactly when the model
    allows it (PENDING → SUCCEEDED | FAILED, SUCCEEDED → COMPENSATED), else refused with LB502."""
    tenant = make_tenant(leadboost_conn)
    with rolled_back(leadboost_conn) as conn:
        saga = conn.execute("INSERT INTO sys.sagas (tenant_id, saga_type, step_count) VALUES (%s, 'order', 1)"
                            " RETURNING id", (tenant,)).fetchone()[0]
        conn.execute("INSERT INTO sys.saga_steps (saga_id, tenant_id, step_index, step_name, status, succeeded_at,"
                     " failed_at, compensated_at) VALUES (%s, %s, 1, 'one', %s, %s, %s, %s)",
                     (saga, tenant, old, *step_columns(old)))
        answer = attempt(conn, "UPDATE sys.saga_steps SET status = %s, succeeded_at = %s, failed_at = %s,"
                               " compensated_at = %s WHERE saga_id = %s", (new, *step_columns(new), saga))
        assert answer.sqlstate == (None if (old, new) in STEP_ALLOWED else "LB502"), f"{old} → {new}: {answer}"

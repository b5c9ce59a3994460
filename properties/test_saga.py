"""Saga compensation: competing workers report step outcomes, duplicates and late reports included."""
from __future__ import annotations

import functools
import uuid

from hypothesis import given
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from leadboost_schema.testing import strategies as lb
from leadboost_schema.testing.interleaving import Step
from properties.broken_variants import COMPENSATION_WITHOUT_IDEMPOTENCY_GUARD, install
from properties.hypothesis_settings import PROPERTY, find_counterexample
from properties.models.saga import ALLOWED, Refused, Saga
from properties.transactions import assert_errors_among, committed, make_scripts, scenario

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
        row = conn.execute(f"SELECT * FROM {functions if kind == 'compensated' else 'sys'}.{FUNCTION[kind]}"
                           "(%s, %s, %s)", (tenant, saga, k)).fetchone()
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


@PROPERTY
@given(data=st.data())
def test_competing_workers_compensate_exactly_the_completed_steps(two_sessions, leadboost_conn, make_tenant,
                                                                  data):
    """Invariant (saga compensation): for any saga and any interleaving of reports from two competing workers
    — doing what the saga asks next, repeating their last report, or reporting late — replayed in commit order
    through the model: every report's answer (applied, saga state, step status, next step, next compensation)
    is the model's; states move only along allowed transitions and COMPLETED/FAILED are final; when step k
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

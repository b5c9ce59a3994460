"""Determinism: each generated schedule, run again on the same data, tells the same story."""
from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from leadboost_schema.testing import strategies as lb
from properties.hypothesis_settings import PROPERTY
from properties.test_saga import operations, saga_scenario
from properties.test_stock import operation, stock_scenario
from properties.transactions import make_scripts

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def story(trace) -> str:
    """The trace with ids (fresh per run: tenants, sagas) blanked out of error messages."""
    return _UUID.sub("<id>", str(trace))


@PROPERTY
@given(data=st.data())
def test_three_sessions_contending_for_one_item_replay_identically(three_sessions, leadboost_conn, make_tenant,
                                                                   data):
    """Invariant (determinism): with three sessions reserving the same item — the case where PostgreSQL wakes
    waiters in racing order unless only lock holders may run — replaying a schedule on a fresh copy of the
    same data gives the same trace, waits, completions and results included."""
    row = data.draw(lb.make_inventory_item(), label="item")
    scripts = data.draw(make_scripts(operation, tuple(three_sessions.names), max_transactions=2), label="scripts")
    first = three_sessions.run(stock_scenario(leadboost_conn, make_tenant(leadboost_conn), row, scripts), data)
    again = three_sessions.run(stock_scenario(leadboost_conn, make_tenant(leadboost_conn), row, scripts),
                               schedule=first.schedule)
    assert story(again) == story(first), f"first run:\n{first}\n\nreplay:\n{again}"


@PROPERTY
@given(data=st.data())
def test_competing_saga_workers_replay_identically(two_sessions, leadboost_conn, make_tenant, data):
    """Invariant (determinism): the saga workload's schedules, replayed on a fresh saga, give the same trace."""
    names = data.draw(lb.make_step_names(4), label="steps")
    scripts = data.draw(make_scripts(operations(len(names)), tuple(two_sessions.names), max_ops=2,
                                     max_transactions=3), label="scripts")
    _, scenario = saga_scenario(leadboost_conn, make_tenant(leadboost_conn), names, scripts)
    first = two_sessions.run(scenario, data)
    _, scenario = saga_scenario(leadboost_conn, make_tenant(leadboost_conn), names, scripts)
    again = two_sessions.run(scenario, schedule=first.schedule)
    assert story(again) == story(first), f"first run:\n{first}\n\nreplay:\n{again}"

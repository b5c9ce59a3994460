"""Governance limits under concurrency: sessions validating actions against shared spend and rate caps."""
from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from leadboost_schema.testing.interleaving import Step
from properties.broken_variants import VALIDATE_WITHOUT_LOCK, install
from properties.hypothesis_settings import PROPERTY, find_counterexample
from properties.models.governance import Cap, Policies
from properties.transactions import assert_errors_among, committed, make_scripts, scenario

REAL = "gobernanza"
BROKEN = "broken"
T0 = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
WINDOW = 60
# (amount, moment): moments 0 and 10 share a window, 70 starts the next one.
operation = st.tuples(st.integers(0, 6).map(Decimal), st.sampled_from((0, 10, 70)))
caps = st.tuples(st.integers(1, 10).map(Decimal), st.one_of(st.none(), st.integers(1, 4).map(Decimal)))


def validate_step(tenant, functions: str):
    def step_of(session: str, op) -> Step:
        amount, now = op
        return Step(f"validate {amount} @{now}", lambda conn: conn.execute(
            f"SELECT allowed, reason FROM {functions}.validate_action(%s, 'ads.spend', %s, %s)",
            (tenant, amount, T0 + datetime.timedelta(seconds=now))).fetchone())
    return step_of


def check_caps(scheduler, conn, make_tenant, data, functions: str) -> None:
    tenant = make_tenant(conn)
    spend_limit, rate_limit = data.draw(caps, label="spend limit, rate limit")
    model = Policies([Cap("SPEND_LIMIT", spend_limit, WINDOW)]
                     + ([Cap("RATE_LIMIT", rate_limit, WINDOW)] if rate_limit else []))
    for priority, cap in enumerate(model.caps):
        conn.execute("INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, limit_value,"
                     " window_seconds, priority, valid_from) VALUES (%s, %s, %s, 'ads.spend', %s, %s, %s, %s)",
                     (tenant, cap.kind.lower(), cap.kind, cap.limit, WINDOW, priority, T0))
    scripts = data.draw(make_scripts(operation, tuple(scheduler.names), max_transactions=2), label="scripts")
    trace = scheduler.run(scenario(scripts, validate_step(tenant, functions)), data)
    assert_errors_among(trace, set())

    for outcome in committed(trace, scripts):
        for (amount, now), event in zip(outcome.transaction.ops, outcome.events, strict=True):
            expected = model.validate(amount, now)
            assert event.result == expected, (
                f"{outcome.session}.{event.step} answered {event.result}; the model says {expected}\n{trace}")
    consumed = dict(conn.execute("SELECT policy_type, window_consumed FROM gobernanza.policies"
                                 " WHERE tenant_id = %s", (tenant,)).fetchall())
    assert consumed == {cap.kind: cap.consumed for cap in model.caps}, f"consumed {consumed}\n{trace}"
    assert all(cap.consumed <= cap.limit for cap in model.caps)


@PROPERTY
@given(data=st.data())
def test_concurrent_validations_never_overspend(two_sessions, leadboost_conn, make_tenant, data):
    """Invariant (governance limits under concurrency): for any interleaving of validate_action calls by two
    sessions against a spend cap (and maybe a rate cap) over fixed windows, in transactions that commit or roll
    back, replayed in commit order through the model: every answer (allowed, reason) is the model's, so a
    window never consumes more than its limit, and the consumption stored equals the model's."""
    check_caps(two_sessions, leadboost_conn, make_tenant, data, REAL)


def test_a_validation_without_the_policy_lock_is_caught(two_sessions, leadboost_conn, make_tenant):
    """The property can fail: when validation reads the caps without locking them, two sessions both see room
    for their spend; Hypothesis finds and shrinks that overspend."""
    install(leadboost_conn, VALIDATE_WITHOUT_LOCK)

    find_counterexample(
        lambda data: check_caps(two_sessions, leadboost_conn, make_tenant, data, BROKEN),
        match=r"answered \(True, 'ALLOWED'\); the model says \(False, ")

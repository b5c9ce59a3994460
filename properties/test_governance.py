"""Governance: spend and rate caps under concurrency, circuit breakers (state machine, single probe) and validity windows."""
from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from leadboost_schema.testing.interleaving import Step
from properties.broken_variants import BREAKER_OPENING_ONE_FAILURE_LATE, VALIDATE_WITHOUT_LOCK, install
from properties.hypothesis_settings import PROPERTY, find_counterexample
from properties.models.governance import Breaker, Cap, Policies, in_force
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


# --- circuit breakers ---------------------------------------------------------------------------------------------

BREAKER_ACTION = "ads.spend"
# A call, or an outcome report (failures three to one, so thresholds are reached), some seconds after the last move.
breaker_move = st.one_of(
    st.tuples(st.just("validate"), st.integers(0, 4)),
    st.tuples(st.just("outcome"), st.sampled_from((False, False, False, True)), st.integers(0, 4)),
)


def insert_breaker(conn, tenant, threshold: int, cooldown: int, action: str = BREAKER_ACTION,
                   state: str = "CLOSED", changed: datetime.datetime | None = None):
    return conn.execute(
        "INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, failure_threshold, cooldown_seconds,"
        " breaker_state, breaker_changed_at, valid_from) VALUES (%s, 'breaker', 'CIRCUIT_BREAKER', %s, %s, %s, %s,"
        " %s, %s) RETURNING id", (tenant, action, threshold, cooldown, state, changed,
                                  T0 - datetime.timedelta(days=1))).fetchone()[0]


def breaker_row(conn, policy) -> tuple:
    return conn.execute("SELECT breaker_state, failure_count, breaker_changed_at FROM gobernanza.policies"
                        " WHERE id = %s", (policy,)).fetchone()


def at_second(seconds: int) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


breaker_example = st.tuples(st.integers(1, 5), st.integers(1, 4), st.sampled_from((BREAKER_ACTION, "*")),
                            st.lists(breaker_move, max_size=30))


def check_breaker(isolation, make_tenant, example, functions: str) -> None:
    threshold, cooldown, action, moves = example
    with isolation() as conn:
        tenant = make_tenant(conn)
        policy = insert_breaker(conn, tenant, threshold, cooldown, action)
        model = Breaker(threshold, cooldown)
        now, story = 0, [f"threshold {threshold}, cooldown {cooldown}s, action {action}"]
        for move in moves:
            now += move[-1]
            if move[0] == "validate":
                allowed, denied_by, reason = conn.execute(
                    f"SELECT * FROM {functions}.validate_action(%s, %s, 0, %s)",
                    (tenant, BREAKER_ACTION, at_second(now))).fetchone()
                expected = model.validate(now)
                story.append(f"@{now} validate -> {allowed, reason}")
                assert (allowed, reason) == expected, f"the model says {expected}:\n" + "\n".join(story)
                assert denied_by == (None if allowed else policy)
            else:
                rows = conn.execute(f"SELECT policy_id, breaker_state FROM {functions}.record_action_outcome("
                                    "%s, %s, %s, %s)", (tenant, BREAKER_ACTION, move[1], at_second(now))).fetchall()
                model.record(move[1], now)
                story.append(f"@{now} {'success' if move[1] else 'failure'} -> {rows[0][1] if rows else rows}")
                assert rows == [(policy, model.state)], f"the model says {model.state}:\n" + "\n".join(story)
            state, failures, changed = breaker_row(conn, policy)
            assert state == model.state, f"stored {state}, the model says {model.state}:\n" + "\n".join(story)
            if state == "CLOSED":
                assert failures == model.failures, (
                    f"{failures} consecutive failures stored, the model counts {model.failures}:\n" + "\n".join(story))
            else:
                assert changed == at_second(model.changed), (
                    f"breaker_changed_at {changed}, the model says @{model.changed}:\n" + "\n".join(story))


@PROPERTY
@given(example=breaker_example)
def test_a_breaker_follows_its_state_machine(leadboost_example, make_tenant, example):
    """Invariant (circuit breaker): for any failure threshold, cooldown and sequence of calls and outcome reports
    over time, every answer of validate_action and record_action_outcome and the stored state are the model's:
    CLOSED allows and opens at exactly ``threshold`` consecutive failures (a success resets the count); OPEN
    denies until its cooldown has passed, then lets exactly ONE probe through (HALF_OPEN: every other call is
    denied until the probe's outcome, or until another cooldown passes without one); the probe's success closes
    it, its failure opens it again; reports while OPEN change nothing."""
    check_breaker(leadboost_example, make_tenant, example, REAL)


def test_a_breaker_opening_one_failure_late_is_caught(leadboost_example, make_tenant):
    """The property can fail: a breaker that opens at threshold + 1 failures is found and shrunk to the
    shortest story, one failure at threshold 1."""
    install(leadboost_example.conn, BREAKER_OPENING_ONE_FAILURE_LATE)

    failure = find_counterexample(
        lambda data: check_breaker(leadboost_example, make_tenant, data.draw(breaker_example), BROKEN),
        match="the model says OPEN")
    assert "threshold 1," in str(failure) and "@0 failure -> CLOSED" in str(failure), str(failure)


def probe_steps(tenant):
    def step_of(session: str, move) -> Step:
        if move[0] == "validate":
            return Step(f"validate @{move[1]}", lambda conn: conn.execute(
                "SELECT allowed, reason FROM gobernanza.validate_action(%s, %s, 0, %s)",
                (tenant, BREAKER_ACTION, at_second(move[1]))).fetchone())
        return Step(f"{'success' if move[1] else 'failure'} @{move[2]}", lambda conn: conn.execute(
            "SELECT breaker_state FROM gobernanza.record_action_outcome(%s, %s, %s, %s)",
            (tenant, BREAKER_ACTION, move[1], at_second(move[2]))).fetchone()[0])
    return step_of


# The breaker opened at 0 with a cooldown of 10 s: calls at 10 and 12 may probe, 25 may probe again.
probe_move = st.one_of(st.tuples(st.just("validate"), st.sampled_from((10, 12, 25))),
                       st.tuples(st.just("outcome"), st.booleans(), st.sampled_from((11, 13))))


@PROPERTY
@given(data=st.data())
def test_concurrent_callers_let_one_probe_through_a_half_open_breaker(two_sessions, leadboost_conn, make_tenant,
                                                                        data):
    """Invariant (single probe under concurrency): for any interleaving of two sessions' calls and outcome
    reports on a breaker whose cooldown has passed, in transactions that commit or roll back, replayed in commit
    order through the model: every answer is the model's — of calls racing for the probe exactly one is let
    through, the others are told CIRCUIT_HALF_OPEN — and the stored state is the model's."""
    tenant = make_tenant(leadboost_conn)
    policy = insert_breaker(leadboost_conn, tenant, 1, 10, state="OPEN", changed=T0)
    model = Breaker(1, 10, state="OPEN", failures=1, changed=0)
    scripts = data.draw(make_scripts(probe_move, tuple(two_sessions.names), max_transactions=2), label="scripts")
    trace = two_sessions.run(scenario(scripts, probe_steps(tenant)), data)
    assert_errors_among(trace, set())

    for outcome in committed(trace, scripts):
        for move, event in zip(outcome.transaction.ops, outcome.events, strict=True):
            if move[0] == "validate":
                expected = model.validate(move[1])
            else:
                model.record(move[1], move[2])
                expected = model.state
            assert event.result == expected, (
                f"{outcome.session}.{event.step} answered {event.result}; the model says {expected}\n{trace}")
    assert breaker_row(leadboost_conn, policy)[0] == model.state, f"stored state differs from the model\n{trace}"


# --- validity windows ---------------------------------------------------------------------------------------------

moment_offset = st.integers(-3, 3)
# [valid_from, valid_until) as offsets in seconds from the example's now(); valid_until None is open-ended.
validity = st.tuples(moment_offset, st.one_of(st.none(), st.integers(1, 3))).map(
    lambda pair: (pair[0], None if pair[1] is None else pair[0] + pair[1]))


@PROPERTY
@given(kill=validity, breaker=validity, active=st.tuples(st.booleans(), st.booleans()), when=moment_offset)
def test_a_policy_applies_exactly_within_its_validity_window(leadboost_example, make_tenant, kill, breaker, active,
                                                             when):
    """Invariant (validity): a policy applies at a moment exactly when it is active and valid_from <= moment <
    valid_until (valid_until NULL: open-ended) — for validate_action (a kill switch in force denies), for
    record_action_outcome (a breaker in force reports its state) and for the active_policies view (at now())."""
    with leadboost_example() as conn:
        tenant = make_tenant(conn)
        base = conn.execute("SELECT now()").fetchone()[0]

        def at(offset):
            return None if offset is None else base + datetime.timedelta(seconds=offset)
        ids = {}
        for name, kind, (start, end), is_active in (("kill", "KILL_SWITCH", kill, active[0]),
                                                    ("breaker", "CIRCUIT_BREAKER", breaker, active[1])):
            ids[name] = conn.execute(
                "INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, failure_threshold,"
                " cooldown_seconds, breaker_state, is_active, valid_from, valid_until) VALUES (%s, %s, %s, %s,"
                " %s, %s, %s, %s, %s, %s) RETURNING id",
                (tenant, name, kind, BREAKER_ACTION, *((3, 60, "CLOSED") if kind == "CIRCUIT_BREAKER" else
                                                       (None, None, None)), is_active, at(start), at(end))
            ).fetchone()[0]

        def applies(name, moment):
            (start, end), is_active = (kill, active[0]) if name == "kill" else (breaker, active[1])
            return is_active and in_force(start, end, moment)

        verdict = conn.execute("SELECT * FROM gobernanza.validate_action(%s, %s, 0, %s)",
                               (tenant, BREAKER_ACTION, at(when))).fetchone()
        expected = ((False, ids["kill"], "KILL_SWITCH") if applies("kill", when) else
                    (True, None, "ALLOWED" if applies("breaker", when) else "NO_POLICY"))
        assert verdict == expected, f"validate_action at {when} answered {verdict}"
        reported = [row[0] for row in conn.execute(
            "SELECT policy_id FROM gobernanza.record_action_outcome(%s, %s, true, %s)",
            (tenant, BREAKER_ACTION, at(when)))]
        assert reported == ([ids["breaker"]] if applies("breaker", when) else []), f"breakers reported {reported}"
        listed = {row[0] for row in conn.execute("SELECT name FROM gobernanza.active_policies WHERE tenant_id = %s",
                                                 (tenant,))}
        assert listed == {name for name in ids if applies(name, 0)}, f"active_policies lists {listed}"

"""The interleaving harness on toy tables: waits seen, completions, deadlock victims, traces, no hangs."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadboost_schema.testing.interleaving import (
    BEGIN,
    COMMIT,
    ROLLBACK,
    InterleavingError,
    InterleavingTimeout,
    NotReplayable,
    Scenario,
    ScenarioStuck,
    Scheduler,
    Step,
    Timeouts,
)

FAST_FAILING = Timeouts(lock=0.3, step=0.6, statement=3.0)
# Function-scoped fixtures are shared by the examples of one test: each example resets the rows itself.
EXAMPLES = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def bump(row: int) -> Step:
    return Step(f"bump{row}", "UPDATE toy SET n = n + 1 WHERE id = %s", (row,))


@pytest.fixture
def toy(leadboost_conn):
    leadboost_conn.execute("CREATE TABLE toy (id int PRIMARY KEY, n int NOT NULL)")
    leadboost_conn.execute("INSERT INTO toy VALUES (1, 0), (2, 0), (3, 0)")
    return leadboost_conn


@pytest.fixture
def two(leadboost_dsn, toy):
    with Scheduler(leadboost_dsn, sessions=2) as scheduler:
        yield scheduler


@pytest.fixture
def three(leadboost_dsn, toy):
    with Scheduler(leadboost_dsn, sessions=3) as scheduler:
        yield scheduler


def test_a_blocked_step_is_reported_and_completes_after_the_holder_commits(two):
    story = Scenario({"s0": [BEGIN, bump(1), COMMIT], "s1": [BEGIN, bump(1), COMMIT]})
    trace = two.run(story, schedule=["s0", "s0", "s1", "s1", "s0", "s1"])
    assert str(trace).splitlines() == [
        "s0.begin",
        "s0.bump1",
        "s1.begin",
        "s1.bump1 <waiting ...>",
        "s0.commit",
        "s1.bump1 <... completed>",
        "s1.commit",
    ]


def test_while_a_session_waits_only_its_holders_may_run(three, toy):
    three.submit("s0", BEGIN)
    three.submit("s0", bump(1))
    assert three.runnable() == ["s0", "s1", "s2"]
    [event] = three.submit("s1", bump(1))
    assert (event.kind, three.waiting(), three.runnable()) == ("waiting", ["s1"], ["s0"])
    with pytest.raises(InterleavingError, match="runnable sessions are"):
        three.submit("s2", bump(2))
    events = three.submit("s0", COMMIT)
    assert [str(e) for e in events] == ["s0.commit", "s1.bump1 <... completed>"]
    assert toy.execute("SELECT n FROM toy WHERE id = 1").fetchone() == (2,)


@pytest.mark.parametrize("closer", ["s0", "s1"])
def test_the_deadlock_victim_is_the_session_that_closed_the_cycle(two, closer):
    first = "s1" if closer == "s0" else "s0"
    story = Scenario({first: [BEGIN, bump(1), bump(2), COMMIT], closer: [BEGIN, bump(2), bump(1), COMMIT]})
    trace = two.run(story, schedule=[first, first, closer, closer, first, closer, first, closer])
    assert str(trace).splitlines() == [
        f"{first}.begin",
        f"{first}.bump1",
        f"{closer}.begin",
        f"{closer}.bump2",
        f"{first}.bump2 <waiting ...>",
        f"{closer}.bump1 ERROR 40P01: deadlock detected",
        f"{first}.bump2 <... completed>",
        f"{first}.commit",
        f"{closer}.commit -> 'ROLLBACK'",
    ]


def test_a_three_session_cycle_always_picks_the_same_victim(three, toy):
    story = Scenario({
        "s0": [BEGIN, bump(1), bump(2), COMMIT],
        "s1": [BEGIN, bump(2), bump(3), COMMIT],
        "s2": [BEGIN, bump(3), bump(1), COMMIT],
    })
    schedule = ["s0", "s0", "s1", "s1", "s2", "s2", "s0", "s1", "s2", "s1", "s0", "s2"]
    traces = set()
    for _ in range(5):
        toy.execute("UPDATE toy SET n = 0")
        traces.add(str(three.run(story, schedule=schedule)))
    [trace] = traces
    assert "s2.bump1 ERROR 40P01: deadlock detected\ns1.bump3 <... completed>" in trace
    assert toy.execute("SELECT array_agg(n ORDER BY id) FROM toy").fetchone() == ([1, 2, 1],)


def test_callables_are_steps_and_their_results_are_traced(two, toy):
    read = Step("read", lambda conn: conn.execute("SELECT n FROM toy WHERE id = 1").fetchone()[0])
    trace = two.run(Scenario({"s0": [bump(1), read]}), schedule=["s0", "s0"])
    assert str(trace).splitlines() == ["s0.bump1", "s0.read -> 1"]
    assert [event.result for event in trace.outcomes()] == [None, 1]


def test_waiting_for_someone_outside_the_scenario_ends_in_lock_timeout(leadboost_dsn, toy):
    toy.execute("BEGIN")
    toy.execute("UPDATE toy SET n = 5 WHERE id = 1")
    with Scheduler(leadboost_dsn, sessions=1, timeouts=FAST_FAILING) as one:
        [event] = one.submit("s0", bump(1))
    toy.execute("ROLLBACK")
    assert str(event) == "s0.bump1 ERROR 55P03: canceling statement due to lock timeout"


def test_a_step_that_never_settles_fails_with_its_trace_and_is_cancelled(leadboost_dsn, toy):
    sleepy = Scenario({"s0": [BEGIN, bump(1), Step("sleep", "SELECT pg_sleep(2.5)")]})
    with Scheduler(leadboost_dsn, sessions=1, timeouts=FAST_FAILING) as one:
        with pytest.raises(InterleavingTimeout, match=r"s0.sleep did not settle.*\n.*\ns0.begin\ns0.bump1$"):
            one.run(sleepy, schedule=["s0", "s0", "s0"])
        assert one.waiting() == [] and one.runnable() == ["s0"]
        # The cancelled example left no transaction and no lock behind.
        assert toy.execute("SELECT n FROM toy WHERE id = 1 FOR UPDATE NOWAIT").fetchone() == (0,)
        assert one.run(Scenario({"s0": [bump(1)]}), schedule=["s0"]).events[0].error is None


def test_waiting_for_a_session_with_no_step_left_is_reported_as_stuck(two, toy):
    story = Scenario({"s0": [BEGIN, bump(1)], "s1": [bump(1)]})
    with pytest.raises(ScenarioStuck, match=r"s1 waits for \['s0'\].*\n.*\n.*\n.*\ns1.bump1 <waiting ...>$"):
        two.run(story, schedule=["s0", "s0", "s1"])
    assert two.run(Scenario({"s1": [bump(1)]}), schedule=["s1"]).events[0].error is None


def test_a_schedule_that_cannot_be_followed_is_refused(two):
    story = Scenario({"s0": [BEGIN, bump(1), COMMIT], "s1": [bump(1)]})
    with pytest.raises(NotReplayable, match=r"schedule says 's1', runnable are \['s0'\]"):
        two.run(story, schedule=["s0", "s0", "s1", "s1"])


def test_a_bug_in_a_python_step_propagates_and_leaves_sessions_clean(two, toy):
    broken = Step("broken", lambda conn: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        two.run(Scenario({"s0": [BEGIN, bump(1), broken]}), schedule=["s0", "s0", "s0"])
    assert toy.execute("SELECT n FROM toy WHERE id = 1 FOR UPDATE NOWAIT").fetchone() == (0,)


def test_timeouts_must_be_ordered():
    with pytest.raises(ValueError, match="deadlock < lock < step < statement"):
        Timeouts(lock=5, step=2, statement=10)


def test_any_interleaving_of_increments_loses_nothing_and_replays_identically(two, toy):
    """Invariant: row-locking increments never lose an update, whatever the interleaving; and running a
    generated schedule again gives the same trace."""
    story = Scenario({"s0": [BEGIN, bump(1), bump(2), COMMIT], "s1": [BEGIN, bump(2), COMMIT]})

    @EXAMPLES
    @given(st.data())
    def example(data):
        toy.execute("UPDATE toy SET n = 0")
        trace = two.run(story, data)
        totals = toy.execute("SELECT array_agg(n ORDER BY id) FROM toy").fetchone()[0]
        assert totals == [1, 2, 0], f"lost update:\n{trace}"
        toy.execute("UPDATE toy SET n = 0")
        assert str(two.run(story, schedule=trace.schedule)) == str(trace)

    example()


def test_hypothesis_finds_and_shrinks_a_lost_update_in_read_then_write(two, toy):
    """The harness can fail: read-then-write without a lock loses an update in some interleaving, and
    Hypothesis shrinks it to the least interleaved story that loses one.""" 
    seen: dict[str, int] = {}

    def read(session):
        def action(conn):
            seen[session] = conn.execute("SELECT n FROM toy WHERE id = 1").fetchone()[0]
        return Step("read", action)

    def write(session):
        return Step("write", lambda conn: conn.execute("UPDATE toy SET n = %s WHERE id = 1",
                                                        (seen[session] + 1,)) and None)

    story = Scenario({name: [BEGIN, read(name), write(name), COMMIT] for name in ("s0", "s1")})

    @settings(EXAMPLES, max_examples=200, derandomize=True)
    @given(st.data())
    def example(data):
        toy.execute("UPDATE toy SET n = 0")
        trace = two.run(story, data)
        n = toy.execute("SELECT n FROM toy WHERE id = 1").fetchone()[0]
        assert n == 2, f"lost update:\n{trace}"

    with pytest.raises(AssertionError) as failure:
        example()
    # pytest's assertion rewriting indents the message's lines.
    story_told = [line.strip() for line in str(failure.value).split("lost update:\n", 1)[1].splitlines()]
    # Shortest story, least interleaved: s1 reads between s0's write and s0's commit.
    assert story_told[:8] == [
        "s0.begin", "s0.read", "s0.write", "s1.begin", "s1.read", "s0.commit", "s1.write", "s1.commit",
    ]


def test_victims_stay_exact_across_runs_that_commit_and_roll_back(two, toy):
    """The per-step deadlock_timeout survives transactions that commit, roll back, abort or get cancelled."""
    stories = {
        closer: Scenario({first: [BEGIN, bump(1), bump(2), COMMIT], closer: [BEGIN, bump(2), bump(1), ROLLBACK]})
        for first, closer in (("s0", "s1"), ("s1", "s0"))
    }
    for round_ in range(6):
        closer = "s1" if round_ % 2 else "s0"
        first = "s0" if closer == "s1" else "s1"
        schedule = [first, first, closer, closer, first, closer, first, closer]
        trace = two.run(stories[closer], schedule=schedule)
        assert f"{closer}.bump1 ERROR 40P01: deadlock detected" in str(trace), trace
        # Left waiting, then cancelled by reset(): its transaction-less step aborts, the holder rolls back.
        two.submit(first, BEGIN)
        two.submit(first, bump(3))
        assert [e.kind for e in two.submit(closer, bump(3))] == ["waiting"]
        two.reset()

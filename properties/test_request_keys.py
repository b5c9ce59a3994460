"""Exactly-once keys: interleaved claims, completions and failures of shared idempotency keys."""
from __future__ import annotations

import datetime
import uuid

from hypothesis import given
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from leadboost_schema.testing import strategies as lb
from leadboost_schema.testing.interleaving import Step
from properties.broken_variants import CLAIM_WITHOUT_LOCK, install
from properties.hypothesis_settings import PROPERTY, find_counterexample
from properties.models.request_keys import RequestKeys
from properties.transactions import assert_errors_among, committed, make_scripts, scenario, story_of

REAL = "sys"
BROKEN = "broken"
LEASE, TTL = 30, 100  # seconds; operations happen at the moments below, so leases lapse and keys expire
T0 = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
moment = st.sampled_from((0, 20, 45, 70, 110))

operation = st.one_of(
    st.tuples(st.just("claim"), lb.make_idempotency_key(2), lb.make_payload(), moment),
    st.tuples(st.sampled_from(("complete", "fail")), lb.make_idempotency_key(2), moment),
)
cleanup = st.tuples(st.just("cleanup"), moment)
# Keys that exist before the sessions start, made by the real functions at -40 s (lease over at -10 s).
initial_state = st.dictionaries(lb.make_idempotency_key(2),
                                st.sampled_from(("FAILED", "ABANDONED", "COMPLETED")), max_size=2)


def at(seconds: int) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


class Worker:
    """What the sessions remember: the lock token of each claim they won, under a readable label."""

    def __init__(self) -> None:
        self.tokens: dict[str, uuid.UUID] = {}
        self.latest: dict[tuple[str, str], str] = {}

    def won(self, session: str, key: str, token: uuid.UUID) -> str:
        label = f"{session}#{len(self.tokens) + 1}"
        self.tokens[label] = token
        self.latest[session, key] = label
        return label


def key_steps(tenant: uuid.UUID, functions: str, worker: Worker):
    def step_of(session: str, op) -> Step:
        if op[0] == "claim":
            _, key, payload, now = op

            def claim(conn):
                outcome, token, _, response, attempts = conn.execute(
                    f"SELECT * FROM {functions}.claim_request_key(%s, %s, %s, %s, %s, %s)",
                    (tenant, key, Jsonb(payload), datetime.timedelta(seconds=LEASE),
                     datetime.timedelta(seconds=TTL), at(now))).fetchone()
                label = worker.won(session, key, token) if token else (response or {}).get("by")
                return outcome, attempts, label
            return Step(f"claim {key} {payload['amount']} @{now}", claim)
        if op[0] == "cleanup":
            return Step(f"cleanup @{op[1]}", lambda conn: conn.execute(
                "SELECT sys.cleanup_expired_request_keys(%s)", (at(op[1]),)).fetchone()[0])
        kind, key, now = op

        def finish(conn):
            label = worker.latest.get((session, key), f"{session}-none")
            token = worker.tokens.get(label, uuid.uuid4())
            if kind == "complete":
                conn.execute("SELECT sys.complete_request_key(%s, %s, %s, %s, %s)",
                             (tenant, key, token, Jsonb({"by": label}), at(now)))
            else:
                conn.execute("SELECT sys.fail_request_key(%s, %s, %s, NULL, %s)", (tenant, key, token, at(now)))
            return label
        return Step(f"{kind} {key} @{now}", finish)
    return step_of


def set_up(conn, tenant: uuid.UUID, initial: dict[str, str], model: RequestKeys) -> None:
    for key, state in sorted(initial.items()):
        payload = {"amount": 1}
        token = conn.execute("SELECT lock_token FROM sys.claim_request_key(%s, %s, %s, %s, %s, %s)",
                             (tenant, key, Jsonb(payload), datetime.timedelta(seconds=LEASE),
                              datetime.timedelta(seconds=TTL), at(-40))).fetchone()[0]
        model.claim(key, payload, -40, "setup")
        if state == "FAILED":
            conn.execute("SELECT sys.fail_request_key(%s, %s, %s, NULL, %s)", (tenant, key, token, at(-40)))
            model.finish(key, "setup", "FAILED")
        elif state == "COMPLETED":
            conn.execute("SELECT sys.complete_request_key(%s, %s, %s, %s, %s)",
                         (tenant, key, token, Jsonb({"by": "setup"}), at(-40)))
            model.finish(key, "setup", "COMPLETED", {"by": "setup"})


def check_exactly_once(scheduler, conn, make_tenant, data, functions: str) -> None:
    try:
        check_keys_of_new_tenant(scheduler, conn, make_tenant(conn), data, functions)
    finally:
        # The cleanup function sweeps every tenant: leave no key that a later example's cleanup could count.
        conn.execute("SELECT sys.cleanup_expired_request_keys(%s)", (at(10 * TTL),))


def check_keys_of_new_tenant(scheduler, conn, tenant: uuid.UUID, data, functions: str) -> None:
    model = RequestKeys(LEASE, TTL)
    set_up(conn, tenant, data.draw(initial_state, label="keys before"), model)
    scripts = data.draw(make_scripts(operation, tuple(scheduler.names), max_transactions=2, alone=cleanup),
                        label="scripts")
    worker = Worker()
    trace = scheduler.run(scenario(scripts, key_steps(tenant, functions, worker)), data)
    assert_errors_among(trace, {"LB401", "LB402", "LB403"})

    for outcome in committed(trace, scripts):
        for op, event in zip(outcome.transaction.ops, outcome.events, strict=True):
            where = f"{outcome.session}.{event.step}"
            if op[0] == "claim":
                said, attempts, label = event.result
                expected = model.claim(op[1], op[2], op[3], label if said in ("CLAIMED", "RECLAIMED") else None)
                assert (said, attempts) == expected, (
                    f"{where} answered {said} (attempt {attempts}); the model says {expected}\n{trace}")
            elif op[0] == "cleanup":
                removed = model.cleanup(op[1])
                assert event.result == removed, f"{where} removed {event.result}, the model {removed}\n{trace}"
            else:
                status = "COMPLETED" if op[0] == "complete" else "FAILED"
                verdict = model.finish(op[1], event.result, status, {"by": event.result})
                assert verdict == "OK", f"{where} was accepted; the model says {verdict}\n{trace}"
    rows = {key: (status, attempts) for key, status, attempts in conn.execute(
        "SELECT idempotency_key, status, attempts FROM sys.request_keys WHERE tenant_id = %s", (tenant,))}
    assert rows == {name: (k.status, k.attempts) for name, k in model.keys.items()}, (
        f"keys differ from the model\n{trace}")


@PROPERTY
@given(data=st.data())
def test_interleaved_claims_process_each_key_exactly_once(two_sessions, leadboost_conn, make_tenant, data):
    """Invariant (exactly once): for any interleaving of claims, completions, failures and cleanups of shared
    keys, replayed in commit order through the model: exactly one claimant gets to process a key (CLAIMED or
    RECLAIMED) while its lease lives, the others see IN_PROGRESS or the stored response (COMPLETED); a
    different payload under a live key is refused; a FAILED key or one whose lease lapsed can be claimed again;
    a completion is accepted only from the latest claim; expired keys are cleaned up; and the final keys equal
    the model's."""
    check_exactly_once(two_sessions, leadboost_conn, make_tenant, data, REAL)


def test_a_claim_without_the_row_lock_is_caught(two_sessions, leadboost_conn, make_tenant):
    """The property can fail: with a claim that reads the key without locking it, Hypothesis finds two
    sessions both claiming one new key, and shrinks it to that story (the second waits on the first's insert,
    then overwrites it)."""
    install(leadboost_conn, CLAIM_WITHOUT_LOCK)

    failure = find_counterexample(
        lambda data: check_exactly_once(two_sessions, leadboost_conn, make_tenant, data, BROKEN),
        match="answered CLAIMED .*; the model says .'IN_PROGRESS'")
    story = story_of(failure)
    claimed = [line for line in story if "-> ('CLAIMED'" in line]
    assert len(claimed) == 2 and "<... completed>" in claimed[1], f"not the double claim:\n{failure}"
    waiting = claimed[1].replace(" <... completed>", " <waiting ...>").split(" -> ")[0]
    assert waiting in story[:story.index(claimed[1])], f"the second claim did not wait:\n{failure}"

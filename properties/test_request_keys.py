"""Exactly-once keys: interleaved claims, completions and failures of shared idempotency keys."""
from __future__ import annotations

import datetime
import uuid

from hypothesis import given
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from leadboost_schema.testing import strategies as lb
from leadboost_schema.testing.attempts import attempt
from leadboost_schema.testing.interleaving import Step
from properties.broken_variants import CLAIM_WITHOUT_LOCK, FINISH_WITHOUT_KEY_LOCK, install
from properties.hypothesis_settings import PROPERTY, find_counterexample
from properties.models.request_keys import RequestKeys
from properties.transactions import (
    Transaction,
    assert_errors_among,
    committed,
    make_scripts,
    scenario,
    story_of,
)

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


# --- one worker at a time, leases and TTLs of its own per claim ---------------------------------------------------

# Leases may outlive the TTL (a key past its expiry may still be held); moves happen 0, 10, 20 or 30 s apart, so
# moments often fall exactly on a lease's or a TTL's end.
pause = st.sampled_from((0, 10, 20, 30))
claim_move = st.tuples(st.just("claim"), lb.make_idempotency_key(2), lb.make_payload(),
                       st.sampled_from((10, 30, 60)), st.sampled_from((20, 50)), pause)
finish_move = st.tuples(st.sampled_from(("complete", "fail")), lb.make_idempotency_key(2), st.integers(0, 3), pause)
cleanup_move = st.tuples(st.just("cleanup"), pause)
key_move = st.one_of(claim_move, claim_move, finish_move, cleanup_move)
OUTCOME_OF_ERROR = {"LB401": "PAYLOAD_MISMATCH"}


def stored_keys(conn, tenant: uuid.UUID) -> dict:
    return {key: (status, attempts, lease, expires) for key, status, attempts, lease, expires in conn.execute(
        "SELECT idempotency_key, status, attempts, lease_expires_at, expires_at FROM sys.request_keys"
        " WHERE tenant_id = %s", (tenant,))}


@PROPERTY
@given(moves=st.lists(key_move, max_size=25))
def test_each_claim_is_judged_by_its_own_lease_and_cleanup_spares_live_leases(leadboost_example, make_tenant,
                                                                               moves):
    """Invariant (leases): for any sequence of claims — each with its own lease and TTL, leases longer or shorter
    than TTLs — completions and failures with the latest or an older claim's token, and cleanups over time,
    every answer and the stored keys (status, attempts, lease end, expiry) are the model's: a key in progress is
    held until its HOLDER's lease ends (whatever lease the new caller asks for), only the latest claim may
    finish it, and cleanup removes keys past their TTL but never a PROCESSING key whose lease is still live."""
    with leadboost_example() as conn:
        tenant = make_tenant(conn)
        model = RequestKeys(LEASE, TTL)
        tokens: dict[str, list[tuple[str, uuid.UUID]]] = {}  # key -> the claims won, oldest first
        now, story = 0, []
        for move in moves:
            now += move[-1]
            if move[0] == "claim":
                _, key, payload, lease, ttl, _ = move
                answer = attempt(conn, "SELECT outcome, lock_token, attempts FROM sys.claim_request_key("
                                 "%s, %s, %s, %s, %s, %s)", (tenant, key, Jsonb(payload), datetime.timedelta(
                                     seconds=lease), datetime.timedelta(seconds=ttl), at(now)))
                label = f"claim{len(story) + 1}"
                if answer.error is None:
                    said, token, attempts = answer.rows[0]
                    if token is not None:
                        tokens.setdefault(key, []).append((label, token))
                    said = (said, attempts)
                else:
                    said = (OUTCOME_OF_ERROR.get(answer.sqlstate, answer.sqlstate), None)
                expected = model.claim(key, payload, now, label, lease, ttl)
                story.append(f"@{now} claim {key} {payload} lease {lease} ttl {ttl} -> {said}")
                if said[0] == "PAYLOAD_MISMATCH":
                    expected = (expected[0], None)
            elif move[0] == "cleanup":
                said = attempt(conn, "SELECT sys.cleanup_expired_request_keys(%s)", (at(now),)).rows[0][0]
                expected = model.cleanup(now)
                story.append(f"@{now} cleanup -> removed {said}")
            else:
                kind, key, which, _ = move
                won = tokens.get(key, [])
                label, token = won[-1 - which] if which < len(won) else ("stranger", uuid.uuid4())
                function = "complete_request_key" if kind == "complete" else "fail_request_key"
                answer = attempt(conn, f"SELECT sys.{function}(%s, %s, %s, %s, %s)",
                                 (tenant, key, token, Jsonb({"by": label}) if kind == "complete" else None, at(now)))
                said = answer.sqlstate or "OK"
                expected = (model.finish(key, label, "COMPLETED", {"by": label}) if kind == "complete" else
                            model.finish(key, label, "FAILED"))
                story.append(f"@{now} {kind} {key} with the token of {label} -> {said}")
            assert said == expected, f"the model says {expected}:\n" + "\n".join(story)
            assert stored_keys(conn, tenant) == {
                name: (k.status, k.attempts, at(k.lease_expires), at(k.expires)) for name, k in model.keys.items()
            }, "stored keys differ from the model:\n" + "\n".join(story)


# --- an old claim's completion racing the new claimant ------------------------------------------------------------

def stale_finish_steps(tenant: uuid.UUID, old_token: uuid.UUID, won: dict[str, uuid.UUID], functions: str):
    def finish(conn, kind: str, label: str, token: uuid.UUID):
        function = "complete_request_key" if kind == "complete" else "fail_request_key"
        conn.execute(f"SELECT {functions}.{function}(%s, 'k', %s, %s, %s)",
                     (tenant, token, Jsonb({"by": label}) if kind == "complete" else None, at(0)))
        return label

    def step_of(session: str, op) -> Step:
        if op[0] == "claim":
            def claim(conn):
                said, token, attempts = conn.execute(
                    "SELECT outcome, lock_token, attempts FROM sys.claim_request_key(%s, 'k', %s, %s, %s, %s)",
                    (tenant, Jsonb({"amount": 1}), datetime.timedelta(seconds=LEASE),
                     datetime.timedelta(seconds=TTL), at(0))).fetchone()
                if token is not None:
                    won[session] = token
                return said, attempts
            return Step("claim @0", claim)
        if op[0] == "old":
            return Step(f"{op[1]} with the old token", lambda conn: finish(conn, op[1], "old", old_token))
        return Step(f"{op[1]} with its own token",
                    lambda conn: finish(conn, op[1], session, won.get(session, uuid.uuid4())))
    return step_of


def check_stale_finish(scheduler, conn, make_tenant, data, functions: str) -> None:
    tenant = make_tenant(conn)
    old_token = conn.execute(
        "SELECT lock_token FROM sys.claim_request_key(%s, 'k', %s, %s, %s, %s)",
        (tenant, Jsonb({"amount": 1}), datetime.timedelta(seconds=LEASE), datetime.timedelta(seconds=TTL),
         at(-40))).fetchone()[0]
    model = RequestKeys(LEASE, TTL)
    model.claim("k", {"amount": 1}, -40, "old")
    kinds = st.sampled_from(("complete", "fail"))
    commits = st.sampled_from((True, True, True, False))
    old = st.builds(lambda kind, commit: Transaction((("old", kind),), commit), kinds, commits)
    new = st.builds(lambda finish, commit: Transaction((("claim",), *finish), commit),
                    st.lists(kinds.map(lambda kind: ("own", kind)), max_size=1), commits)
    scripts = {"s0": [data.draw(old, label="old worker")], "s1": [data.draw(new, label="new worker")]}
    trace = scheduler.run(scenario(scripts, stale_finish_steps(tenant, old_token, {}, functions)), data)
    assert_errors_among(trace, {"LB403"})

    for outcome in committed(trace, scripts):
        for op, event in zip(outcome.transaction.ops, outcome.events, strict=True):
            if op[0] == "claim":
                expected = model.claim("k", {"amount": 1}, 0, outcome.session)
                assert event.result == expected, (
                    f"{outcome.session}.{event.step} answered {event.result}; the model says {expected}\n{trace}")
            else:
                label = "old" if op[0] == "old" else outcome.session
                verdict = (model.finish("k", label, "COMPLETED", {"by": label}) if op[1] == "complete" else
                           model.finish("k", label, "FAILED"))
                assert verdict == "OK", (
                    f"{outcome.session}.{event.step} was accepted and committed; the model says {verdict}\n{trace}")
    status, response = conn.execute("SELECT status, response FROM sys.request_keys WHERE tenant_id = %s",
                                              (tenant,)).fetchone()
    assert (status, response) == (model.keys["k"].status, model.keys["k"].response), f"stored {status}\n{trace}"


@PROPERTY
@given(data=st.data())
def test_a_finish_with_an_old_token_never_overwrites_the_new_claimant(two_sessions, leadboost_conn, make_tenant,
                                                                      data):
    """Invariant (the key row lock of complete/fail): a key whose first claim's lease has lapsed; the old worker
    completes or fails it with its old token while a new worker reclaims it (and maybe finishes it), in any
    interleaving, either transaction committing or rolling back. Replayed in commit order through the model:
    the old token is accepted only if its report committed before the reclaim, otherwise refused (LB403) — it
    never overwrites the new claim — and the stored key is the model's."""
    check_stale_finish(two_sessions, leadboost_conn, make_tenant, data, REAL)


def test_a_finish_without_the_key_lock_is_caught(two_sessions, leadboost_conn, make_tenant):
    """The property can fail: when complete/fail read the key and its token without locking the row, Hypothesis
    finds the old worker's report waiting on the new claimant and then overwriting its claim."""
    install(leadboost_conn, FINISH_WITHOUT_KEY_LOCK)

    failure = find_counterexample(
        lambda data: check_stale_finish(two_sessions, leadboost_conn, make_tenant, data, BROKEN),
        match="with the old token was accepted and committed; the model says LB403")
    story = story_of(failure)
    assert any("with the old token <waiting ...>" in line for line in story), str(failure)

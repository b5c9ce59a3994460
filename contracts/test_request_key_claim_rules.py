"""What sys.claim_request_key promises about one key, call by call (found by the mutation run: each rule below could
be broken with every other test passing; schema/README.md, the claim_request_key row and LB404).

* p_lease is accepted in (0, 1 day] and p_ttl in (0, 366 days], both ends as written: the upper bound itself is
  accepted, one microsecond more or zero is LB404, and a refused call writes nothing.
* ``attempts`` counts the claims of a key (1 + one per reclaim): the stored count is always the one the claim answered.
* A FAILED key is retryable at once: it is RECLAIMED even while the failed claim's lease would still run.
* A claim changes only the row of its own (tenant, key): no other key of its tenant, no key of the same name of another
  tenant — whichever way it takes the key (new, past its TTL, FAILED, lease lapsed).
* Of concurrent claimants of one key that can be taken (FAILED, lapsed, past its TTL), exactly one gets it: a claim
  judges the key as it is once it holds the key's row lock, not as it read it before waiting.
"""
from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from leadboost_schema.testing.attempts import attempt

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)
TICK = dt.timedelta(microseconds=1)
LEASE, TTL = 60 * S, dt.timedelta(days=1)
PAYLOAD = {"order": 7}
CLAIM = "SELECT outcome, lock_token, attempts FROM sys.claim_request_key(%s, %s, %s, %s, %s, %s)"


def _claim(conn, tenant: uuid.UUID, key: str, at: dt.datetime, lease: dt.timedelta = LEASE,
           ttl: dt.timedelta = TTL) -> tuple:
    return conn.execute(CLAIM, (tenant, key, Jsonb(PAYLOAD), lease, ttl, at)).fetchone()


def _fail(conn, tenant: uuid.UUID, key: str, token: uuid.UUID, at: dt.datetime) -> None:
    conn.execute("SELECT sys.fail_request_key(%s, %s, %s, 'boom', %s)", (tenant, key, token, at))


def _complete(conn, tenant: uuid.UUID, key: str, token: uuid.UUID, at: dt.datetime) -> None:
    conn.execute("SELECT sys.complete_request_key(%s, %s, %s, '{\"ok\": true}', %s)", (tenant, key, token, at))


def _rows(conn) -> dict[tuple[uuid.UUID, str], dict]:
    return {(tenant, key): row for tenant, key, row in conn.execute(
        "SELECT tenant_id, idempotency_key, to_jsonb(r) FROM sys.request_keys AS r")}


# --- the documented ranges of p_lease and p_ttl ------------------------------------------------------------------

DAY, YEAR = dt.timedelta(days=1), dt.timedelta(days=366)
RANGE_EDGES = [
    ("p_lease", TICK, True), ("p_lease", DAY, True), ("p_lease", dt.timedelta(0), False),
    ("p_lease", DAY + TICK, False), ("p_lease", -TICK, False),
    ("p_ttl", TICK, True), ("p_ttl", YEAR, True), ("p_ttl", dt.timedelta(0), False),
    ("p_ttl", YEAR + TICK, False), ("p_ttl", -TICK, False),
]


@pytest.mark.parametrize(("argument", "value", "accepted"), RANGE_EDGES,
                         ids=[f"{a}={v}-{'in' if ok else 'out'}" for a, v, ok in RANGE_EDGES])
def test_lease_and_ttl_are_accepted_exactly_within_their_documented_ranges(leadboost_conn, make_tenant, argument,
                                                                           value, accepted):
    """Rule: p_lease in (0, 1 day] and p_ttl in (0, 366 days] are claimed (and stored as given); any value outside,
    by a microsecond, is LB404 and writes nothing."""
    tenant = make_tenant(leadboost_conn)
    lease, ttl = (value, TTL) if argument == "p_lease" else (LEASE, value)
    result = attempt(leadboost_conn, CLAIM, (tenant, "k", Jsonb(PAYLOAD), lease, ttl, T0))
    stored = leadboost_conn.execute("SELECT lease_expires_at, expires_at FROM sys.request_keys WHERE tenant_id = %s",
                                    (tenant,)).fetchall()
    if accepted:
        assert result.error is None and result.rows[0][0] == "CLAIMED", str(result)
        assert stored == [(T0 + lease, T0 + ttl)]
    else:
        assert result.sqlstate == "LB404", str(result)
        assert stored == []


# --- attempts ---------------------------------------------------------------------------------------------------

def test_attempts_count_the_claims_and_the_stored_count_is_the_answered_one(leadboost_conn, make_tenant):
    """Rule: a key's attempts is 1 + the number of reclaims (after a failure or a lapsed lease), and the count stored
    in the row is always the count the claim answered; an answer that changes nothing (IN_PROGRESS, COMPLETED)
    does not count."""
    tenant = make_tenant(leadboost_conn)
    seen = []

    def claim(at: dt.datetime) -> tuple:
        outcome, token, attempts = _claim(leadboost_conn, tenant, "k", at)
        stored = leadboost_conn.execute("SELECT attempts FROM sys.request_keys WHERE tenant_id = %s AND"
                                        " idempotency_key = 'k'", (tenant,)).fetchone()[0]
        seen.append((outcome, attempts, stored))
        return token

    token = claim(T0)                                     # CLAIMED 1
    claim(T0 + S)                                         # IN_PROGRESS: not a claim
    _fail(leadboost_conn, tenant, "k", token, T0 + 2 * S)
    token = claim(T0 + 3 * S)                             # RECLAIMED after a failure: 2
    token = claim(T0 + 3 * S + LEASE)                     # RECLAIMED after the lease lapsed: 3
    _fail(leadboost_conn, tenant, "k", token, T0 + 4 * S + LEASE)
    token = claim(T0 + 5 * S + LEASE)                     # 4
    _complete(leadboost_conn, tenant, "k", token, T0 + 6 * S + LEASE)
    claim(T0 + 7 * S + LEASE)                             # COMPLETED: the stored response, not a claim
    assert seen == [("CLAIMED", 1, 1), ("IN_PROGRESS", 1, 1), ("RECLAIMED", 2, 2), ("RECLAIMED", 3, 3),
                    ("RECLAIMED", 4, 4), ("COMPLETED", 4, 4)]


# --- a failed key is retryable at once ------------------------------------------------------------------------------

@pytest.mark.parametrize("after", [S, LEASE - TICK], ids=["just after", "last instant of the lease"])
def test_a_failed_key_is_reclaimed_even_while_the_failed_claims_lease_would_run(leadboost_conn, make_tenant, after):
    """Rule: FAILED means retryable now — the next claim is RECLAIMED whatever the failed claim's lease (only a
    PROCESSING key is held until its lease ends)."""
    tenant = make_tenant(leadboost_conn)
    _, token, _ = _claim(leadboost_conn, tenant, "k", T0)
    _fail(leadboost_conn, tenant, "k", token, T0)
    outcome, new_token, attempts = _claim(leadboost_conn, tenant, "k", T0 + after)
    assert (outcome, attempts) == ("RECLAIMED", 2)
    assert new_token is not None and new_token != token
    assert leadboost_conn.execute("SELECT status, lock_token, lease_expires_at FROM sys.request_keys"
                                  " WHERE tenant_id = %s", (tenant,)).fetchone() == (
        "PROCESSING", new_token, T0 + after + LEASE)


# --- a claim touches only its own key ----------------------------------------------------------------------------

def _set_up_key(conn, tenant: uuid.UUID, key: str, state: str) -> None:
    """A key in ``state`` at T0 + 10 s: LIVE (PROCESSING, lease running), LAPSED (PROCESSING, lease over), FAILED,
    COMPLETED, EXPIRED (past its TTL)."""
    ttl = S if state == "EXPIRED" else TTL
    lease = S if state == "LAPSED" else LEASE
    _, token, _ = _claim(conn, tenant, key, T0, lease=lease, ttl=ttl)
    if state == "FAILED":
        _fail(conn, tenant, key, token, T0)
    elif state == "COMPLETED":
        _complete(conn, tenant, key, token, T0)


TAKEN = [("NEW", "CLAIMED"), ("EXPIRED", "CLAIMED"), ("FAILED", "RECLAIMED"), ("LAPSED", "RECLAIMED"),
         ("LIVE", "IN_PROGRESS"), ("COMPLETED", "COMPLETED")]


@pytest.mark.parametrize(("state", "told"), TAKEN, ids=[state for state, _ in TAKEN])
def test_a_claim_changes_no_row_but_its_own_key(leadboost_conn, make_tenant, state, told):
    """Rule: a claim of (tenant, key) changes at most that row — never another key of the tenant, never the key of
    the same name of another tenant — whatever state those rows are in."""
    tenant, other = make_tenant(leadboost_conn), make_tenant(leadboost_conn)
    states = ("LIVE", "LAPSED", "FAILED", "COMPLETED", "EXPIRED")
    for neighbour in states:
        _set_up_key(leadboost_conn, tenant, f"other-{neighbour}", neighbour)
    for neighbour in states:
        _set_up_key(leadboost_conn, other, f"other-{neighbour}", neighbour)
    _set_up_key(leadboost_conn, other, "k", state if state != "NEW" else "LIVE")
    if state != "NEW":
        _set_up_key(leadboost_conn, tenant, "k", state)
    before = _rows(leadboost_conn)
    result = attempt(leadboost_conn, CLAIM, (tenant, "k", Jsonb(PAYLOAD), LEASE, TTL, T0 + 10 * S))
    after = _rows(leadboost_conn)
    assert result.error is None and result.rows[0][0] == told, str(result)
    changed = {row for row in before.keys() | after.keys() if before.get(row) != after.get(row)}
    assert changed <= {(tenant, "k")}, f"the claim of {state} key k changed {sorted(changed, key=str)}"


# --- concurrent claimants of a key that can be taken ---------------------------------------------------------------

def _wait_until_blocked_or_done(observer: psycopg.Connection, pid: int, worker: threading.Thread,
                                timeout: float = 10.0) -> bool:
    """Polls until backend ``pid`` waits on a lock (True) or its call returned (False) — pg_locks, not a sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if observer.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", (pid,)).fetchone()[0]:
            return True
        if not worker.is_alive():
            return False
        time.sleep(0.005)
    raise AssertionError(f"backend {pid} neither waited on a lock nor returned")


@pytest.mark.parametrize(("state", "told"), [("FAILED", "RECLAIMED"), ("LAPSED", "RECLAIMED"), ("EXPIRED", "CLAIMED")])
def test_of_two_concurrent_claimants_of_a_free_key_exactly_one_takes_it(leadboost_dsn, make_tenant, state, told):
    """Rule (README: exactly one of concurrent claimants gets CLAIMED/RECLAIMED; a claim judges the key only once it
    holds the key's row lock): a transaction holds the key's row (as a claim, completion or failure does); a second
    claimant, started meanwhile, waits on it; the first transaction then takes the key and commits. The second must
    be told IN_PROGRESS (the first's live lease) — judging the key as it read it before the wait would take it a
    second time — and the first's claim is the one stored."""
    with psycopg.connect(leadboost_dsn, autocommit=True) as observer:
        tenant = make_tenant(observer)
        _set_up_key(observer, tenant, "k", state)
        with psycopg.connect(leadboost_dsn) as first, psycopg.connect(leadboost_dsn, autocommit=True) as second:
            first.execute("SELECT 1 FROM sys.request_keys WHERE tenant_id = %s AND idempotency_key = 'k' FOR UPDATE",
                          (tenant,))
            answer: dict[str, object] = {}

            def claim() -> None:
                try:
                    answer["said"] = _claim(second, tenant, "k", T0 + 11 * S)[0]
                except psycopg.Error as error:
                    answer["said"] = f"{error.sqlstate}: {error.diag.message_primary}"

            worker = threading.Thread(target=claim)
            worker.start()
            waited = _wait_until_blocked_or_done(observer, second.info.backend_pid, worker)
            outcome, token, _ = _claim(first, tenant, "k", T0 + 10 * S)
            first.commit()
            worker.join(timeout=30)
        stored = observer.execute("SELECT status, lock_token FROM sys.request_keys WHERE tenant_id = %s",
                                  (tenant,)).fetchall()
    assert outcome == told
    assert (waited, answer.get("said")) == (True, "IN_PROGRESS")
    assert stored == [("PROCESSING", token)]

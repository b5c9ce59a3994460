"""A key deleted under a claim (schema/README.md: "40001 from claim_request_key only if a key is deleted under it
three times in a row (retry)"). sys.claim_request_key inserts the key (ON CONFLICT DO NOTHING) and, when it exists,
locks it; if the row it waited on was deleted meanwhile (cleanup, then another worker's claim re-created it), it
starts again — at most three times in all, then 40001. Found by the mutation run: the loop's bounds and its final
RAISE could change with every other test passing.

The exact interleaving, as PostgreSQL's isolation tester would run it, with no sleep: a test-only BEFORE INSERT
trigger makes the claimant (and only it: a session setting) pass a gate — an advisory lock the controlling session
holds — before each INSERT, so each attempt is seen (pg_locks) and the controller decides what the attempt meets.
Each round: the controller locks the key row (a claim that answers IN_PROGRESS) and opens the gate; the claimant's
INSERT meets the row and its SELECT … FOR UPDATE waits on the controller; the controller takes the gate back,
deletes the key (cleanup after its expiry), re-claims it (a new row) and commits: the row the claimant waited on is
gone.
"""
from __future__ import annotations

import datetime as dt
import threading
import time

import psycopg
import pytest
from psycopg.types.json import Jsonb

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
LEASE, TTL = dt.timedelta(seconds=60), dt.timedelta(hours=1)
PAYLOAD = Jsonb({"order": 7})
CLAIM = "SELECT outcome, attempts FROM sys.claim_request_key(%s, 'k', %s, %s, %s, %s)"
GATE = 8_000_001  # the advisory lock key of the gate
INSTALL_GATE = f"""
CREATE FUNCTION public.test_claim_gate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('test.claim_gate', true) = 'on' THEN
        PERFORM pg_advisory_lock({GATE});
        PERFORM pg_advisory_unlock({GATE});
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER test_claim_gate BEFORE INSERT ON sys.request_keys
    FOR EACH ROW EXECUTE FUNCTION public.test_claim_gate();
"""


def _waiting_on(observer: psycopg.Connection, pid: int, worker: threading.Thread, timeout: float = 10.0) -> str:
    """Polls pg_locks until backend ``pid`` waits on a lock ('advisory': at the gate; 'row': on a key row's
    transaction) or its call returned ('done')."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kinds = {kind for (kind,) in observer.execute("SELECT locktype FROM pg_locks WHERE pid = %s AND NOT granted",
                                                      (pid,))}
        if "advisory" in kinds:
            return "advisory"
        if kinds & {"transactionid", "tuple"}:
            return "row"
        if not worker.is_alive():
            return "done"
        time.sleep(0.005)
    raise AssertionError(f"backend {pid} neither waited on a lock nor returned")


@pytest.mark.parametrize("deletions", [0, 1, 2, 3])
def test_a_claim_retries_a_key_deleted_under_it_up_to_three_times_then_answers_40001(leadboost_dsn, make_tenant,
                                                                                     deletions):
    """Rule: a claim that meets an existing key and finds it deleted when it gets the row lock starts again; after
    the third such deletion in a row it gives up with 40001 (retry) — before that it answers from the key it finally
    locks (here IN_PROGRESS: another worker's live lease). It never tries a fourth time, never returns no row, and
    judges the key only under its row lock (each attempt waits for the row's holder)."""
    with psycopg.connect(leadboost_dsn, autocommit=True) as observer:
        tenant = make_tenant(observer)
        observer.execute(INSTALL_GATE)
        observer.execute(CLAIM, (tenant, PAYLOAD, LEASE, TTL, T0))  # another worker holds k
        with psycopg.connect(leadboost_dsn, autocommit=True) as claimant, \
                psycopg.connect(leadboost_dsn, autocommit=True) as controller:
            controller.execute("SELECT pg_advisory_lock(%s)", (GATE,))
            claimant.execute("SET test.claim_gate = 'on'")
            answer: dict[str, object] = {}

            def claim() -> None:
                try:
                    answer["said"] = claimant.execute(CLAIM, (tenant, PAYLOAD, LEASE, TTL, T0 + LEASE / 2)).fetchall()
                except psycopg.Error as error:
                    answer["said"] = error.sqlstate

            worker = threading.Thread(target=claim)
            worker.start()
            pid, seen = claimant.info.backend_pid, []
            try:
                for round_ in range(1, deletions + 1):
                    seen.append(_waiting_on(observer, pid, worker))  # at the gate of attempt `round_`
                    if seen[-1] != "advisory":
                        break
                    with controller.transaction():
                        assert controller.execute(CLAIM, (tenant, PAYLOAD, LEASE, TTL, T0 + LEASE / 2)).fetchone()[0] \
                            == "IN_PROGRESS"  # holds the row lock
                        controller.execute("SELECT pg_advisory_unlock(%s)", (GATE,))
                        seen.append(_waiting_on(observer, pid, worker))  # on the row
                        controller.execute("SELECT pg_advisory_lock(%s)", (GATE,))
                        if seen[-1] != "row":
                            break
                        # the key is deleted (its TTL is over at that moment) and claimed anew by a worker
                        assert controller.execute("SELECT sys.cleanup_expired_request_keys(%s)",
                                                  (T0 + 2 * TTL,)).fetchone()[0] == 1
                        assert controller.execute(CLAIM, (tenant, PAYLOAD, LEASE, TTL, T0)).fetchone()[0] == "CLAIMED"
                    seen.append(f"deleted {round_}")
                seen.append(_waiting_on(observer, pid, worker))  # the next attempt's gate, or the answer
            finally:
                controller.execute("SELECT pg_advisory_unlock_all()")
                worker.join(timeout=30)
        rows = observer.execute("SELECT status, attempts FROM sys.request_keys WHERE tenant_id = %s",
                                (tenant,)).fetchall()
    expected = []
    for round_ in range(1, deletions + 1):
        expected += ["advisory", "row", f"deleted {round_}"]
    if deletions < 3:
        expected.append("advisory")  # the claim starts again: attempt deletions + 1
        assert (seen, answer.get("said")) == (expected, [("IN_PROGRESS", 1)])
    else:
        expected.append("done")  # three deletions: no fourth attempt
        assert (seen, answer.get("said")) == (expected, "40001")
    assert rows == [("PROCESSING", 1)]  # the claimant changed nothing

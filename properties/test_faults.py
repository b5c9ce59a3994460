"""Faults leave nothing half-done.

1. A backend terminated (``pg_terminate_backend``) after EVERY step of every multi-statement operation — before
   BEGIN's first statement, after each statement, while a step waits for a lock, after COMMIT — leaves the database
   exactly as before (catalog-wide fingerprint) until COMMIT, and exactly the operation's effects after it; every
   invariant holds after each fault, and the operation can then run in full with the same ids (nothing half-written
   blocks it). Deterministic: the operation's statements run one by one on a session killed after step i, for
   every i.
2. A private server stopped with ``pg_ctl stop -m immediate`` in the middle of a concurrent workload, then restarted:
   every acknowledged commit is there (postings balanced, events in place), nothing uncommitted is, stream versions
   are gapless, a key left PROCESSING is claimable once its lease is over, a completed key and its posting are
   both there or both absent, and every saga left open can be resumed or compensated to a final state.
"""
from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from leadboost_schema.server import Server
from leadboost_schema.server.settings import Settings
from leadboost_schema.testing.data_fingerprint import data_fingerprint, fingerprint_changes
from leadboost_schema.testing.factories import make_tenant
from leadboost_schema.testing.interleaving import BEGIN, COMMIT, Scheduler, Step
from leadboost_schema.testing.invariants import violations
from leadboost_schema.testing.private_server import DURABLE_OPTIONS, PrivateServer

LEGS = json.dumps([{"account_type": "CASH", "amount": 25, "direction": 1},
                   {"account_type": "REVENUE", "amount": 25, "direction": -1}])
Statement = tuple[str, str, tuple]  # (label, SQL, parameters)


# --- 1. a backend killed after every step ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    """A client operation of several statements: ``prepare`` commits what it needs (a fresh tenant's rows) and
    returns its context; ``steps`` are the statements, BEGIN … COMMIT; ``done`` asserts its full effect."""

    name: str
    prepare: Callable[[psycopg.Connection], dict[str, Any]]
    steps: Callable[[dict[str, Any]], list[Statement]]
    done: Callable[[psycopg.Connection, dict[str, Any]], None]


def _one(conn: psycopg.Connection, query: str, params: tuple = ()) -> Any:
    return conn.execute(query, params).fetchone()[0]


def _tenant_with_stock(conn: psycopg.Connection) -> dict[str, Any]:
    tenant = make_tenant(conn)
    conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, quantity_on_hand) VALUES (%s, 'SKU-F', 10)",
                 (tenant,))
    conn.execute("INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, limit_value, window_seconds)"
                 " VALUES (%s, 'spend', 'SPEND_LIMIT', 'ads.spend', 100, 3600)", (tenant,))
    return {"tenant": tenant, "posting": uuid.uuid4(), "event": uuid.uuid4()}


def _tenant_with_saga(conn: psycopg.Connection, compensating: bool) -> dict[str, Any]:
    tenant = make_tenant(conn)
    saga = _one(conn, "SELECT sys.start_saga(%s, 'order.place', '[\"a\", \"b\", \"c\"]')", (tenant,))
    conn.execute("SELECT sys.record_step_success(%s, %s, 1)", (tenant, saga))
    if compensating:
        conn.execute("SELECT sys.record_step_success(%s, %s, 2)", (tenant, saga))
        conn.execute("SELECT sys.record_step_failure(%s, %s, 3, 'declined')", (tenant, saga))
    return {"tenant": tenant, "saga": saga, "event": uuid.uuid4()}


def _tenant_with_claim(conn: psycopg.Connection) -> dict[str, Any]:
    tenant = make_tenant(conn)
    token = _one(conn, "SELECT lock_token FROM sys.claim_request_key(%s, 'order-7', '{\"order\": 7}')", (tenant,))
    return {"tenant": tenant, "token": token, "posting": uuid.uuid4()}


def _tenant_with_posting(conn: psycopg.Connection) -> dict[str, Any]:
    tenant = make_tenant(conn)
    posting = _one(conn, "SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS))
    return {"tenant": tenant, "posting": posting, "event": uuid.uuid4()}


def _event(c: dict[str, Any], stream: str, event_type: str) -> Statement:
    return (f"append {event_type}", "SELECT events.append_event(%s, %s, 'ORDER', %s, '{\"n\": 1}', 0, '{}', %s)",
            (c["tenant"], stream, event_type, c["event"]))


def _event_there(conn: psycopg.Connection, c: dict[str, Any]) -> bool:
    return _one(conn, "SELECT count(*) FROM events.event_store WHERE event_id = %s", (c["event"],)) == 1


def _legs_of(conn: psycopg.Connection, posting: uuid.UUID) -> int:
    return _one(conn, "SELECT count(*) FROM finanzas.ledger_entries WHERE transaction_id = %s", (posting,))


def _place_order_done(conn: psycopg.Connection, c: dict[str, Any]) -> None:
    item = conn.execute("SELECT quantity_reserved, version FROM stock.inventory_items WHERE tenant_id = %s",
                        (c["tenant"],)).fetchone()
    consumed = _one(conn, "SELECT window_consumed FROM gobernanza.policies WHERE tenant_id = %s", (c["tenant"],))
    assert (item, consumed, _legs_of(conn, c["posting"]), _event_there(conn, c)) == ((2, 2), 10, 2, True)


def _saga_state(conn: psycopg.Connection, c: dict[str, Any]) -> tuple:
    return conn.execute("SELECT s.state, array_agg(st.status ORDER BY st.step_index) FROM sys.sagas s"
                        " JOIN sys.saga_steps st ON st.saga_id = s.id WHERE s.id = %s GROUP BY s.state",
                        (c["saga"],)).fetchone()


def _batch_statements(c: dict[str, Any]) -> list[Statement]:
    t, batch = c["tenant"], c["batch"]
    return [("begin", "BEGIN", ()),
            ("open batch", "INSERT INTO migration.batch_control (id, tenant_id, firebase_id, collection, status,"
                           " started_at) VALUES (%s, %s, %s, 'raw_signals', 'RUNNING', now())",
             (batch, t, f"batch-{batch.hex}")),
            *[(f"signal {i}", "INSERT INTO migration.raw_signals (tenant_id, firebase_id, batch_id, signal_type)"
                              " VALUES (%s, %s, %s, 'web.visit') ON CONFLICT (firebase_id) DO NOTHING",
               (t, f"signal-{batch.hex}-{i}", batch)) for i in (1, 2)],
            ("close batch", "UPDATE migration.batch_control SET status = 'COMPLETED', processed_count = 2,"
                            " expected_count = 2, finished_at = now() WHERE id = %s", (batch,)),
            ("commit", "COMMIT", ())]


OPERATIONS = [
    Operation(
        "place an order (limit, stock, ledger, event)", _tenant_with_stock,
        lambda c: [("begin", "BEGIN", ()),
                   ("validate", "SELECT * FROM gobernanza.validate_action(%s, 'ads.spend', 10)", (c["tenant"],)),
                   ("reserve", "SELECT * FROM stock.reserve_inventory(%s, 'SKU-F', 2, 1)", (c["tenant"],)),
                   ("post", "SELECT finanzas.post_transaction(%s, %s, 'EUR', 'order', %s)",
                    (c["tenant"], LEGS, c["posting"])),
                   _event(c, "order-1", "OrderPlaced"),
                   ("commit", "COMMIT", ())],
        _place_order_done),
    Operation(
        "a posting written leg by leg", lambda conn: {"tenant": make_tenant(conn), "posting": uuid.uuid4()},
        lambda c: [("begin", "BEGIN", ()),
                   ("header", "INSERT INTO finanzas.transactions (id, tenant_id, currency) VALUES (%s, %s, 'EUR')",
                    (c["posting"], c["tenant"])),
                   *[(f"leg {d}", "INSERT INTO finanzas.ledger_entries (tenant_id, transaction_id, account_type,"
                                  " amount, direction, currency) VALUES (%s, %s, %s, 40, %s, 'EUR')",
                      (c["tenant"], c["posting"], account, d)) for account, d in (("BANK", 1), ("EQUITY", -1))],
                   ("commit", "COMMIT", ())],
        lambda conn, c: _legs_of(conn, c["posting"]) == 2 or pytest.fail("the posting's legs are missing")),
    Operation(
        "a claimed request: work and completion in one transaction", _tenant_with_claim,
        lambda c: [("begin", "BEGIN", ()),
                   ("post", "SELECT finanzas.post_transaction(%s, %s, 'EUR', 'order 7', %s)",
                    (c["tenant"], LEGS, c["posting"])),
                   ("complete", "SELECT sys.complete_request_key(%s, 'order-7', %s, '{\"status\": 201}')",
                    (c["tenant"], c["token"])),
                   ("commit", "COMMIT", ())],
        lambda conn, c: (_legs_of(conn, c["posting"]), _one(
            conn, "SELECT status FROM sys.request_keys WHERE tenant_id = %s", (c["tenant"],))) == (2, "COMPLETED")
        or pytest.fail("the completion or its posting is missing")),
    Operation(
        "a saga step and its event", lambda conn: _tenant_with_saga(conn, compensating=False),
        lambda c: [("begin", "BEGIN", ()),
                   ("step 2 succeeded", "SELECT * FROM sys.record_step_success(%s, %s, 2)", (c["tenant"], c["saga"])),
                   _event(c, "saga-1", "StepDone"),
                   ("commit", "COMMIT", ())],
        lambda conn, c: (_saga_state(conn, c), _event_there(conn, c)) == (
            ("RUNNING", ["SUCCEEDED", "SUCCEEDED", "PENDING"]), True) or pytest.fail("step 2 was not recorded")),
    Operation(
        "a compensation and its event", lambda conn: _tenant_with_saga(conn, compensating=True),
        lambda c: [("begin", "BEGIN", ()),
                   ("step 2 compensated", "SELECT * FROM sys.record_compensation_done(%s, %s, 2)",
                    (c["tenant"], c["saga"])),
                   _event(c, "saga-1", "StepCompensated"),
                   ("commit", "COMMIT", ())],
        lambda conn, c: (_saga_state(conn, c), _event_there(conn, c)) == (
            ("COMPENSATING", ["SUCCEEDED", "COMPENSATED", "FAILED"]), True) or pytest.fail("compensation missing")),
    Operation(
        "a reversal and its event", _tenant_with_posting,
        lambda c: [("begin", "BEGIN", ()),
                   ("reverse", "SELECT finanzas.reverse_transaction(%s, %s)", (c["tenant"], c["posting"])),
                   _event(c, "order-1", "OrderRefunded"),
                   ("commit", "COMMIT", ())],
        lambda conn, c: (_one(conn, "SELECT count(*) FROM finanzas.transactions WHERE reverses_transaction_id = %s",
                              (c["posting"],)), _event_there(conn, c)) == (1, True) or pytest.fail("reversal missing")),
    Operation(
        "a backfill batch", lambda conn: {"tenant": make_tenant(conn), "batch": uuid.uuid4()}, _batch_statements,
        lambda conn, c: _one(conn, "SELECT count(*) FROM migration.raw_signals WHERE batch_id = %s",
                             (c["batch"],)) == 2 or pytest.fail("the batch's rows are missing")),
]


def _terminate(control: psycopg.Connection, pid: int) -> None:
    """Kill the backend and wait until it is gone (its transaction aborted, its locks released)."""
    assert _one(control, "SELECT pg_terminate_backend(%s, 10000)", (pid,)) is True


def _run_and_kill(dsn: str, control: psycopg.Connection, steps: list[Statement]) -> None:
    victim = psycopg.connect(dsn, autocommit=True)
    try:
        for _, query, params in steps:
            victim.execute(query, params)
        _terminate(control, victim.info.backend_pid)
    finally:
        victim.close()


def partial_states(dsn: str, control: psycopg.Connection, steps: list[Statement]) -> list[str]:
    """Kill a session after each step short of the last (COMMIT); describe every fault after which the database
    differs from before or breaks an invariant."""
    before = data_fingerprint(control)
    found = []
    for done in range(1, len(steps)):
        _run_and_kill(dsn, control, steps[:done])
        changed = fingerprint_changes(before, data_fingerprint(control))
        broken = violations(control)
        if changed or broken:
            found.append(f"killed after {steps[done - 1][0]!r}: {changed} {list(broken)}")
    return found


@pytest.mark.parametrize("operation", OPERATIONS, ids=[o.name for o in OPERATIONS])
def test_a_backend_killed_after_any_step_leaves_nothing_partial(leadboost_dsn: str, operation: Operation,
                                                                 record_property) -> None:
    with psycopg.connect(leadboost_dsn, autocommit=True) as control:
        context = operation.prepare(control)
        steps = operation.steps(context)
        assert partial_states(leadboost_dsn, control, steps) == []
        _run_and_kill(leadboost_dsn, control, steps)  # killed after COMMIT: all of it stays
        operation.done(control, context)
        assert violations(control) == {}
    record_property("faults_injected", len(steps))


def test_the_kill_check_catches_an_operation_run_outside_a_transaction(leadboost_dsn: str) -> None:
    """The same statements of "place an order" without BEGIN: each commits alone, and a kill after the first
    leaves its part behind — which is what the property above would report."""
    with psycopg.connect(leadboost_dsn, autocommit=True) as control:
        steps = [s for s in OPERATIONS[0].steps(OPERATIONS[0].prepare(control)) if s[0] not in ("begin", "commit")]
        found = partial_states(leadboost_dsn, control, [*steps, ("end", "SELECT 1", ())])
    assert found and "killed after 'validate'" in found[0]


def test_a_claim_left_processing_by_a_killed_worker_is_claimable_after_its_lease(leadboost_dsn: str) -> None:
    """The worker that claimed the key dies mid-transaction: the key stays PROCESSING (its lease holds other
    claimants off) until the lease ends; then one claimant gets it back (RECLAIMED) and finishes exactly once."""
    with psycopg.connect(leadboost_dsn, autocommit=True) as control:
        c = _tenant_with_claim(control)
        _run_and_kill(leadboost_dsn, control, OPERATIONS[2].steps(c)[:3])
        claim = "SELECT outcome, lock_token FROM sys.claim_request_key(%s, 'order-7', '{\"order\": 7}', p_now => %s)"
        during = control.execute(claim.replace("%s)", "now())"), (c["tenant"],)).fetchone()
        after = control.execute(claim.replace("%s)", "now() + interval '5 minutes 1 second')"),
                                (c["tenant"],)).fetchone()
        control.execute("SELECT sys.complete_request_key(%s, 'order-7', %s, '{\"status\": 201}')", (c["tenant"], after[1]))
        replay = control.execute(claim.replace("%s)", "now())"), (c["tenant"],)).fetchone()
    assert during[0] == "IN_PROGRESS"
    assert after[0] == "RECLAIMED"
    assert replay[0] == "COMPLETED"


def test_a_backend_killed_while_it_waits_for_a_lock_leaves_nothing(leadboost_dsn: str) -> None:
    """s1 places an order; its reservation waits for s0's row lock; s1 is killed while waiting: its consumption
    of the spend limit is gone too, and s0 carries on."""
    with psycopg.connect(leadboost_dsn, autocommit=True) as control, Scheduler(leadboost_dsn, 2) as scheduler:
        c = _tenant_with_stock(control)
        before = data_fingerprint(control)
        scheduler.submit("s0", BEGIN)
        scheduler.submit("s0", Step("lock the item", "SELECT 1 FROM stock.inventory_items WHERE tenant_id = %s"
                                                     " FOR UPDATE", (c["tenant"],)))
        scheduler.submit("s1", BEGIN)
        scheduler.submit("s1", Step("validate", "SELECT * FROM gobernanza.validate_action(%s, 'ads.spend', 10)",
                                    (c["tenant"],)))
        scheduler.submit("s1", Step("reserve", "SELECT * FROM stock.reserve_inventory(%s, 'SKU-F', 2, 1)",
                                    (c["tenant"],)))
        assert scheduler.waiting() == ["s1"]
        _terminate(control, scheduler.pid("s1"))
        scheduler.submit("s0", COMMIT)
        scheduler.reset()
        assert fingerprint_changes(before, data_fingerprint(control)) == []
        assert violations(control) == {}


# --- 2. an immediate stop in the middle of a concurrent workload ----------------------------------------------------

@dataclass
class Ledger:
    """What one worker knows: acknowledged commits, writes whose COMMIT got no answer, and rolled-back ones."""

    committed_postings: set[uuid.UUID] = field(default_factory=set)
    committed_events: set[uuid.UUID] = field(default_factory=set)
    doubtful_postings: set[uuid.UUID] = field(default_factory=set)
    doubtful_events: set[uuid.UUID] = field(default_factory=set)
    rolled_back: set[uuid.UUID] = field(default_factory=set)
    keys: dict[str, uuid.UUID] = field(default_factory=dict)  # key → the posting its completion commits with
    sagas: set[uuid.UUID] = field(default_factory=set)
    commits: int = 0


class Workload:
    """Workers posting, appending, claiming keys and running sagas for one tenant until the server goes away."""

    def __init__(self, dsn: str, tenant: uuid.UUID, workers: int = 3, crash_after: int = 45) -> None:
        self.dsn, self.tenant, self.crash_after = dsn, tenant, crash_after
        self.ledgers = [Ledger() for _ in range(workers)]
        self.enough = threading.Condition()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._work, args=(i,), daemon=True) for i in range(workers)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def wait_for_commits(self, timeout: float = 120.0) -> int:
        with self.enough:
            self.enough.wait_for(lambda: self.commits() >= self.crash_after or self.errors, timeout)
        assert not self.errors, self.errors
        return self.commits()

    def commits(self) -> int:
        return sum(ledger.commits for ledger in self.ledgers)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in self.threads)

    def _committed(self, ledger: Ledger) -> None:
        with self.enough:
            ledger.commits += 1
            self.enough.notify_all()

    def _work(self, worker: int) -> None:
        ledger, t = self.ledgers[worker], self.tenant
        try:
            conn = psycopg.connect(self.dsn, autocommit=True, options=DURABLE_OPTIONS)
        except psycopg.Error as error:
            self.errors.append(error)
            return
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
        version = 0
        try:
            for n in itertools.count():
                posting, event = uuid.uuid4(), uuid.uuid4()
                kind = n % 4
                if kind == 3:  # a posting rolled back on purpose
                    conn.execute("BEGIN")
                    conn.execute("SELECT finanzas.post_transaction(%s, %s, 'EUR', NULL, %s)", (t, LEGS, posting))
                    ledger.rolled_back.add(posting)
                    conn.execute("ROLLBACK")
                    continue
                if kind == 2:  # a saga: started, step 1 done, maybe step 2 failed (all in autocommit)
                    saga = uuid.uuid4()
                    ledger.sagas.add(saga)
                    conn.execute("SELECT sys.start_saga(%s, 'order.place', '[\"a\", \"b\", \"c\"]', '{}', %s)",
                                 (t, saga))
                    conn.execute("SELECT sys.record_step_success(%s, %s, 1)", (t, saga))
                    if n % 8 == 2:
                        conn.execute("SELECT sys.record_step_failure(%s, %s, 2, 'declined')", (t, saga))
                    self._committed(ledger)
                    continue
                key = f"w{worker}-{n}"
                if kind == 1:  # a request key: the claim commits alone, the work commits with the completion
                    token = conn.execute("SELECT lock_token FROM sys.claim_request_key(%s, %s, '{}')",
                                         (t, key)).fetchone()[0]
                    ledger.keys[key] = posting
                conn.execute("BEGIN")
                conn.execute("SELECT finanzas.post_transaction(%s, %s, 'EUR', NULL, %s)", (t, LEGS, posting))
                conn.execute("SELECT events.append_event(%s, %s, 'ORDER', 'Posted', '{}', %s, '{}', %s)",
                             (t, f"stream-{worker}", version, event))
                if kind == 1:
                    conn.execute("SELECT sys.complete_request_key(%s, %s, %s, '{\"ok\": true}')", (t, key, token))
                ledger.doubtful_postings.add(posting)
                ledger.doubtful_events.add(event)
                conn.execute("COMMIT")  # no answer (the server went away) leaves both doubtful
                ledger.doubtful_postings.discard(posting)
                ledger.doubtful_events.discard(event)
                ledger.committed_postings.add(posting)
                ledger.committed_events.add(event)
                version += 1
                self._committed(ledger)
        except psycopg.OperationalError:
            pass  # the immediate stop: this worker is done
        except BaseException as error:
            self.errors.append(error)
            with self.enough:
                self.enough.notify_all()
        finally:
            conn.close()


@pytest.fixture
def private_server(leadboost_server: Server, leadboost_settings: Settings):
    with PrivateServer.like(leadboost_server, leadboost_settings) as private:
        yield private


def test_an_immediate_stop_mid_workload_keeps_every_commit_and_nothing_else(private_server: PrivateServer,
                                                                           record_property) -> None:
    dsn = private_server.migrated_database()
    with psycopg.connect(dsn, autocommit=True) as setup:
        tenant = make_tenant(setup)
    workload = Workload(dsn, tenant)
    workload.start()
    acknowledged = workload.wait_for_commits()
    private_server.crash()
    workload.join()
    private_server.restart()

    everyone = Ledger()
    for ledger in workload.ledgers:
        for name in ("committed_postings", "committed_events", "doubtful_postings", "doubtful_events",
                     "rolled_back", "sagas"):
            getattr(everyone, name).update(getattr(ledger, name))
        everyone.keys.update(ledger.keys)
    with psycopg.connect(dsn, autocommit=True) as conn:
        postings = {row[0] for row in conn.execute("SELECT id FROM finanzas.transactions WHERE tenant_id = %s",
                                                   (tenant,))}
        events = {row[0] for row in conn.execute("SELECT event_id FROM events.event_store WHERE tenant_id = %s",
                                                 (tenant,))}
        assert everyone.committed_postings <= postings, "acknowledged postings lost"
        assert postings <= everyone.committed_postings | everyone.doubtful_postings, "unacknowledged postings kept"
        assert not postings & everyone.rolled_back
        assert everyone.committed_events <= events and events <= everyone.committed_events | everyone.doubtful_events
        assert violations(conn) == {}  # balanced, gapless, sagas consistent, …

        # Exactly once: a key is COMPLETED exactly when the posting committed with its completion is there.
        keys = dict(conn.execute("SELECT idempotency_key, status FROM sys.request_keys WHERE tenant_id = %s",
                                 (tenant,)).fetchall())
        for key, posting in everyone.keys.items():
            assert (keys.get(key) == "COMPLETED") == (posting in postings), key
        # A key left PROCESSING by a dead worker: held during its lease, claimable after it.
        for key in [k for k, status in keys.items() if status == "PROCESSING"]:
            claim = "SELECT outcome FROM sys.claim_request_key(%s, %s, '{}', p_now => now() + %s::interval)"
            assert conn.execute(claim, (tenant, key, "0 seconds")).fetchone() == ("IN_PROGRESS",)
            assert conn.execute(claim, (tenant, key, "5 minutes 1 second")).fetchone() == ("RECLAIMED",)

        # Every saga left open can be finished: resumed to COMPLETED, or compensated to FAILED.
        open_sagas = conn.execute("SELECT id, state, next_step, next_compensation_step FROM sys.active_sagas"
                                  " WHERE tenant_id = %s ORDER BY id", (tenant,)).fetchall()
        for i, (saga, state, next_step, _) in enumerate(open_sagas):
            if state == "RUNNING" and i % 2 == 0:
                for step in range(next_step, 4):
                    conn.execute("SELECT sys.record_step_success(%s, %s, %s)", (tenant, saga, step))
            else:
                if state == "RUNNING":
                    conn.execute("SELECT sys.record_step_failure(%s, %s, %s)", (tenant, saga, next_step))
                while (due := conn.execute("SELECT next_compensation_step FROM sys.active_sagas WHERE id = %s",
                                           (saga,)).fetchone()) and due[0]:
                    conn.execute("SELECT sys.record_compensation_done(%s, %s, %s)", (tenant, saga, due[0]))
        finals = conn.execute("SELECT count(*) FILTER (WHERE state IN ('COMPLETED', 'FAILED')), count(*)"
                              " FROM sys.sagas WHERE tenant_id = %s", (tenant,)).fetchone()
        assert finals[0] == finals[1] >= len(everyone.sagas) - 3  # a saga being started at the crash may be gone
        assert violations(conn) == {}
    record_property("acknowledged_commits_before_the_crash", acknowledged)
    record_property("open_sagas_finished_after_restart", len(open_sagas))

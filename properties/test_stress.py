"""Load on the five domains at once: many sessions, each running a random mix of ledger postings and reversals,
optimistic stock reservations, spend-limit checks, exactly-once requests and sagas, and event appends with
snapshots — all on ONE tenant's shared rows, so they contend — then every invariant is checked against what the
sessions were told (a model kept by the clients).

Invariant: after any such run, zero violations: every acknowledged posting is in the ledger and balances; each item's
reserved quantity and version equal the initial ones plus the acknowledged reservations/releases; the spend window
holds exactly the allowed amounts and never more than its limit; a key is COMPLETED exactly when one client's
completion was acknowledged (never two); each stream has exactly the acknowledged appends, gapless; sagas are
consistent; and ``leadboost_schema.testing.invariants`` finds nothing.

The small run (3 sessions × 40 operations) runs by default so the code path is always exercised. The stress run is
opt-in, like a benchmark: ``LEADBOOST_STRESS=1`` (sizes: ``LEADBOOST_STRESS_SESSIONS`` default 8,
``LEADBOOST_STRESS_OPS`` per session default 2000, ``LEADBOOST_STRESS_SECONDS`` default 120, ``LEADBOOST_STRESS_SEED``).
Run it alone to see its report: ``LEADBOOST_STRESS=1 pytest properties/test_stress.py -p no:xdist -s``.
"""
from __future__ import annotations

import collections
import json
import os
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import psycopg
import pytest

from leadboost_schema.testing.factories import make_tenant
from leadboost_schema.testing.invariants import violations

NOW = "2026-06-01 12:00:00+00"  # one spend window for the whole run (p_now is injectable)
ITEMS, KEYS, STREAMS, ON_HAND, SPEND_LIMIT = 3, 12, 3, 10**6, 50_000
# Refusals the documentation promises under contention: another append won the version (LB601), the posting was
# reversed by someone else first (LB110), a key was taken over or already finished (LB403), a claim raced a cleanup
# (40001).
EXPECTED_UNDER_CONTENTION = {"LB601", "LB110", "LB403", "40001"}


@dataclass(frozen=True)
class Size:
    sessions: int
    operations: int
    seconds: float
    seed: int


def _size(opt_in: bool) -> Size:
    env = os.environ
    if not opt_in:
        return Size(3, 40, 60.0, int(env.get("LEADBOOST_STRESS_SEED", "7")))
    return Size(int(env.get("LEADBOOST_STRESS_SESSIONS", "8")), int(env.get("LEADBOOST_STRESS_OPS", "2000")),
                float(env.get("LEADBOOST_STRESS_SECONDS", "120")), int(env.get("LEADBOOST_STRESS_SEED", "7")))


@dataclass
class Model:
    """What the sessions were told, summed over sessions (each session fills its own, merged at the end)."""

    operations: collections.Counter = field(default_factory=collections.Counter)
    refusals: collections.Counter = field(default_factory=collections.Counter)
    unexpected: list[str] = field(default_factory=list)
    postings: set[uuid.UUID] = field(default_factory=set)
    reserved: collections.Counter = field(default_factory=collections.Counter)  # sku → net acknowledged change
    updates: collections.Counter = field(default_factory=collections.Counter)   # sku → acknowledged updates
    spent: int = 0
    completions: collections.Counter = field(default_factory=collections.Counter)  # key → acknowledged completions
    appends: collections.Counter = field(default_factory=collections.Counter)      # stream → acknowledged appends
    sagas: dict[uuid.UUID, str] = field(default_factory=dict)  # saga → final state as last reported

    def merge(self, other: Model) -> None:
        for name in ("operations", "refusals", "reserved", "updates", "completions", "appends"):
            getattr(self, name).update(getattr(other, name))
        self.unexpected += other.unexpected
        self.postings |= other.postings
        self.spent += other.spent
        self.sagas.update(other.sagas)


def _legs(rng: random.Random) -> str:
    amount = rng.randint(1, 10**6) / 100
    return json.dumps([{"account_type": "CASH", "amount": amount, "direction": 1},
                       {"account_type": "REVENUE", "amount": amount, "direction": -1}])


class Session:
    """One client connection running ``operations`` random operations (or until the deadline)."""

    def __init__(self, dsn: str, tenant: uuid.UUID, number: int, size: Size, deadline: float) -> None:
        self.dsn, self.t, self.rng, self.size, self.deadline = dsn, tenant, random.Random(size.seed * 1000 + number), \
            size, deadline
        self.model = Model()
        self.mine: list[uuid.UUID] = []

    def run(self) -> None:
        operations = [self.post, self.reverse, self.reserve, self.release, self.spend, self.request, self.saga,
                      self.append]
        with psycopg.connect(self.dsn, autocommit=True) as self.conn:
            for _ in range(self.size.operations):
                if time.monotonic() > self.deadline:
                    break
                operation = self.rng.choice(operations)
                self.model.operations[operation.__name__] += 1
                try:
                    operation()
                except psycopg.Error as error:
                    if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                        self.conn.execute("ROLLBACK")
                    if error.sqlstate in EXPECTED_UNDER_CONTENTION:
                        self.model.refusals[error.sqlstate] += 1
                    else:
                        self.model.unexpected.append(f"{operation.__name__}: {error.sqlstate} {error}")

    def one(self, query: str, params: tuple) -> tuple:
        return self.conn.execute(query, params).fetchone()

    def post(self) -> None:
        posting = self.one("SELECT finanzas.post_transaction(%s, %s, %s)",
                           (self.t, _legs(self.rng), self.rng.choice(["EUR", "USD"])))[0]
        self.model.postings.add(posting)
        self.mine.append(posting)

    def reverse(self) -> None:
        if not self.mine:
            return self.post()
        original = self.rng.choice(self.mine)  # reversing one twice is refused: LB110
        self.model.postings.add(self.one("SELECT finanzas.reverse_transaction(%s, %s)", (self.t, original))[0])

    def _change_stock(self, function: str, quantity: int, sign: int) -> None:
        sku = f"SKU-{self.rng.randrange(ITEMS)}"
        version = self.one("SELECT version FROM stock.inventory_items WHERE tenant_id = %s AND sku = %s",
                           (self.t, sku))[0]
        success, reason, *_ = self.one(f"SELECT * FROM stock.{function}(%s, %s, %s, %s)",
                                       (self.t, sku, quantity, version))
        if success:
            self.model.reserved[sku] += sign * quantity
            self.model.updates[sku] += 1
        else:
            self.model.refusals[reason] += 1

    def reserve(self) -> None:
        self._change_stock("reserve_inventory", self.rng.randint(1, 20), 1)

    def release(self) -> None:
        self._change_stock("release_inventory", self.rng.randint(1, 5), -1)

    def spend(self) -> None:
        amount = self.rng.randint(1, 500)
        allowed, _, reason = self.one("SELECT * FROM gobernanza.validate_action(%s, 'ads.spend', %s, %s)",
                                      (self.t, amount, NOW))
        if allowed:
            self.model.spent += amount
        else:
            self.model.refusals[reason] += 1

    def request(self) -> None:
        key = f"request-{self.rng.randrange(KEYS)}"
        outcome, token, *_ = self.one("SELECT * FROM sys.claim_request_key(%s, %s, '{}')", (self.t, key))
        if outcome not in ("CLAIMED", "RECLAIMED"):
            self.model.refusals[outcome] += 1
            return
        if self.rng.random() < 0.3:  # the work failed: the key may be claimed again
            self.conn.execute("SELECT sys.fail_request_key(%s, %s, %s, 'upstream timeout')", (self.t, key, token))
            return
        with self.conn.transaction():  # the work and its completion commit together
            posting = self.one("SELECT finanzas.post_transaction(%s, %s)", (self.t, _legs(self.rng)))[0]
            self.conn.execute("SELECT sys.complete_request_key(%s, %s, %s, '{\"ok\": true}')", (self.t, key, token))
        self.model.postings.add(posting)
        self.model.completions[key] += 1

    def saga(self) -> None:
        steps = self.rng.randint(1, 4)
        saga = self.one("SELECT sys.start_saga(%s, 'order.place', %s)",
                        (self.t, json.dumps([f"step{i}" for i in range(steps)])))[0]
        failing = self.rng.choice([None, *range(1, steps + 1)])
        state = "RUNNING"
        for step in range(1, steps + 1):
            report = "record_step_failure" if step == failing else "record_step_success"
            _, state, *_ = self.one(f"SELECT * FROM sys.{report}(%s, %s, %s)", (self.t, saga, step))
            applied = self.one(f"SELECT applied FROM sys.{report}(%s, %s, %s)", (self.t, saga, step))[0]
            if applied:  # a repeated report must change nothing
                self.model.unexpected.append(f"saga {saga}: a repeated report of step {step} was applied")
            if step == failing:
                break
        while state == "COMPENSATING":
            due = self.one("SELECT next_compensation_step FROM sys.active_sagas WHERE id = %s", (saga,))[0]
            _, state, *_ = self.one("SELECT * FROM sys.record_compensation_done(%s, %s, %s)", (self.t, saga, due))
        self.model.sagas[saga] = state

    def append(self) -> None:
        stream = f"stream-{self.rng.randrange(STREAMS)}"
        current = self.one("SELECT coalesce(max(version), 0) FROM events.event_store WHERE tenant_id = %s"
                           " AND stream_id = %s", (self.t, stream))[0]
        self.conn.execute("SELECT events.append_event(%s, %s, 'COUNTER', 'Counted', %s, %s)",
                          (self.t, stream, json.dumps({"n": self.rng.randint(0, 9), f"k{current % 5}": current}),
                           current))
        self.model.appends[stream] += 1
        if self.rng.random() < 0.2:
            self.conn.execute("SELECT events.create_snapshot(%s, %s)", (self.t, stream))


def model_violations(conn: psycopg.Connection, tenant: uuid.UUID, model: Model) -> list[str]:
    """Every difference between the database and what the sessions were told."""
    found = [f"unexpected error: {u}" for u in model.unexpected]
    postings = {r[0] for r in conn.execute("SELECT id FROM finanzas.transactions WHERE tenant_id = %s", (tenant,))}
    if postings != model.postings:
        found.append(f"postings: {len(model.postings - postings)} acknowledged missing, "
                     f"{len(postings - model.postings)} unacknowledged present")
    for sku, reserved, version in conn.execute("SELECT sku, quantity_reserved, version FROM stock.inventory_items"
                                               " WHERE tenant_id = %s", (tenant,)):
        if (reserved, version) != (model.reserved[sku], 1 + model.updates[sku]):
            found.append(f"{sku}: reserved {reserved}, version {version}; acknowledged "
                         f"{model.reserved[sku]}, {1 + model.updates[sku]}")
    consumed = conn.execute("SELECT window_consumed FROM gobernanza.policies WHERE tenant_id = %s",
                            (tenant,)).fetchone()[0]
    if consumed != model.spent or consumed > SPEND_LIMIT:
        found.append(f"spend window holds {consumed}, {model.spent} allowed, limit {SPEND_LIMIT}")
    keys = dict(conn.execute("SELECT idempotency_key, status FROM sys.request_keys WHERE tenant_id = %s", (tenant,)))
    for key, status in keys.items():
        if model.completions[key] > 1 or (status == "COMPLETED") != (model.completions[key] == 1):
            found.append(f"{key}: {status} after {model.completions[key]} acknowledged completions")
    streams = dict(conn.execute("SELECT stream_id, count(*) FROM events.event_store WHERE tenant_id = %s"
                                " GROUP BY stream_id", (tenant,)))
    if streams != {s: n for s, n in model.appends.items() if n}:
        found.append(f"events per stream {streams}, acknowledged {dict(model.appends)}")
    states = dict(conn.execute("SELECT id, state FROM sys.sagas WHERE tenant_id = %s", (tenant,)))
    if states != model.sagas:
        found.append(f"{sum(states.get(s) != v for s, v in model.sagas.items())} sagas differ from their reports")
    found += [f"{name}: {rows[:3]}" for name, rows in violations(conn).items()]
    return found


@pytest.mark.parametrize("run", ["small", "stress"])
def test_the_five_domains_under_load_keep_every_invariant(leadboost_dsn: str, run: str, record_property) -> None:
    opt_in = os.environ.get("LEADBOOST_STRESS", "") not in ("", "0")
    if run == "stress" and not opt_in:
        pytest.skip("opt-in stress run (like a benchmark): set LEADBOOST_STRESS=1; the small run covers the code")
    size = _size(opt_in=run == "stress")
    with psycopg.connect(leadboost_dsn, autocommit=True) as conn:
        tenant = make_tenant(conn)
        for i in range(ITEMS):
            conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, quantity_on_hand) VALUES (%s, %s, %s)",
                         (tenant, f"SKU-{i}", ON_HAND))
        conn.execute("INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, limit_value,"
                     " window_seconds, valid_from) VALUES (%s, 'spend', 'SPEND_LIMIT', 'ads.spend', %s, 86400,"
                     " '2026-01-01')", (tenant, SPEND_LIMIT))
        started = time.monotonic()
        sessions = [Session(leadboost_dsn, tenant, n, size, started + size.seconds) for n in range(size.sessions)]
        threads = [threading.Thread(target=s.run) for s in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        model = Model()
        for session in sessions:
            model.merge(session.model)
        found = model_violations(conn, tenant, model)
    total = sum(model.operations.values())
    report = (f"{run}: {size.sessions} sessions, {total} operations in {elapsed:.1f} s "
              f"({total / elapsed:.0f}/s), refusals {dict(model.refusals)}, violations {len(found)}")
    print(report)
    record_property("operations", total)
    record_property("violations", len(found))
    assert found == [], report + "\n" + "\n".join(found)

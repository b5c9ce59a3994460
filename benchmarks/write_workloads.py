"""The write workloads as client operations ``op(conn, client, call)``: each public function on a hot write
path, and the same rows written plainly (the baselines) or straight into the schema's tables (the cost
layers).

Every factory call makes a fresh workload (its own stream and key names), so one workload can run standalone
and again paired with another in the same database without colliding.
"""
from __future__ import annotations

import hashlib
import itertools
import random
import uuid
from dataclasses import dataclass, field

from baseline_workloads import (
    complete_key,
    insert_event,
    insert_key,
    insert_posting,
    tpcb_parameters,
    tpcb_transaction,
    tpcb_transaction_pipelined,
    update_item,
)
from psycopg.types.json import Jsonb
from workload_rows import EVENT_PAYLOAD, LEGS, REQUEST_PAYLOAD, RESPONSE

from leadboost_schema.bench.clients import Operation
from leadboost_schema.bench.data import HOT_SKUS
from leadboost_schema.catalog.hot_queries import CALLS

_workload = itertools.count()
_REQUEST_HASH = hashlib.sha256(str(REQUEST_PAYLOAD.obj).encode()).hexdigest()


def event_appends(tenants: list[uuid.UUID], table: str | None = None) -> Operation:
    """Each client appends to ten streams of its own tenant with the version it last saw: through
    events.append_event (``table`` None), or as a plain INSERT of the same row into ``table``."""
    versions: list[dict[str, int]] = [{} for _ in tenants]
    prefix = f"w{next(_workload)}"

    def append(conn, client, call):
        stream = f"{prefix}-{client}-{call % 10}"
        expected = versions[client].get(stream, 0)
        if table is None:
            conn.execute(CALLS["append_event"].sql, {
                "tenant": tenants[client], "stream": stream, "stream_type": "CAMPAIGN",
                "event_type": "BudgetChanged", "payload": EVENT_PAYLOAD, "expected_version": expected})
        else:
            conn.execute(insert_event(table), (tenants[client], stream, "CAMPAIGN", expected + 1,
                                               "BudgetChanged", EVENT_PAYLOAD))
        versions[client][stream] = expected + 1

    return append


def postings(tenants: list[uuid.UUID], legs: int, tables: tuple[str, str] | None = None) -> Operation:
    """A ``legs``-leg posting per call for the client's tenant: finanzas.post_transaction (``tables`` None),
    or its header and legs inserted in one statement into ``tables`` (transactions, entries)."""
    statement = CALLS["post_transaction"].sql if tables is None else insert_posting(*tables)

    def post(conn, client, call):
        conn.execute(statement, {"tenant": tenants[client], "legs": Jsonb(LEGS[legs])})

    return post


def tpcb(clients: int, pipelined: bool = False) -> Operation:
    """pgbench's TPC-B-like transaction at scale 1 (every client updates the one branch row)."""
    rngs = [random.Random(client) for client in range(clients)]
    transaction = tpcb_transaction_pipelined if pipelined else tpcb_transaction

    def run(conn, client, call):
        transaction(conn, tpcb_parameters(rngs[client]))

    return run


def hot_item_updates(tenant: uuid.UUID, clients: int, table: str) -> Operation:
    """Reserve then release one unit of one of the two hot items by plain UPDATEs of ``table``: no expected
    version, so they wait for each other's row lock instead of retrying."""
    rngs = [random.Random(client) for client in range(clients)]
    statement = update_item(table)

    def reserve_release(conn, client, call):
        sku = HOT_SKUS[rngs[client].getrandbits(1)]
        conn.execute(statement, (1, tenant, sku))
        conn.execute(statement, (-1, tenant, sku))

    return reserve_release


@dataclass
class Reservations:
    """Reserve then release one unit of one of the two hot items through the functions, each call with the
    version this client last saw; a STALE_VERSION answer is retried with the version it reports."""

    tenant: uuid.UUID
    clients: int
    calls: int = 0
    retries: int = 0
    _seen: list[dict[str, int]] = field(default_factory=list)
    _rngs: list[random.Random] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._seen = [dict.fromkeys(HOT_SKUS, 1) for _ in range(self.clients)]
        self._rngs = [random.Random(client) for client in range(self.clients)]

    def __call__(self, conn, client, call) -> None:
        sku = HOT_SKUS[self._rngs[client].getrandbits(1)]
        for name in ("reserve_inventory", "release_inventory"):
            while True:
                self.calls += 1
                success, reason, version = conn.execute(CALLS[name].sql, {
                    "tenant": self.tenant, "sku": sku, "quantity": 1,
                    "expected_version": self._seen[client][sku]}).fetchone()
                self._seen[client][sku] = version
                if success:
                    break
                assert reason == "STALE_VERSION", reason
                self.retries += 1


def claims(tenants: list[uuid.UUID], table: str | None = None) -> Operation:
    """A new idempotency key claimed and completed: sys.claim_request_key + sys.complete_request_key
    (``table`` None), or its row inserted and then updated to COMPLETED in ``table``."""
    serial = itertools.count()
    prefix = f"w{next(_workload)}"

    def claim_complete(conn, client, call):
        key, tenant = f"{prefix}-{next(serial)}", tenants[client]
        if table is None:
            params = {"tenant": tenant, "key": key, "payload": REQUEST_PAYLOAD}
            outcome, token = conn.execute(CALLS["claim_request_key"].sql, params).fetchone()
            assert outcome == "CLAIMED", outcome
            conn.execute(CALLS["complete_request_key"].sql,
                         {**params, "lock_token": token, "response": RESPONSE})
        else:
            conn.execute(insert_key(table), (tenant, key, _REQUEST_HASH))
            conn.execute(complete_key(table), (RESPONSE, tenant, key))

    return claim_complete

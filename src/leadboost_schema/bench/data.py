"""Production-shaped synthetic data for the benchmarks and plan contracts, loaded by COPY into a database.

Shape: many tenants with Zipf-skewed sizes; event streams of several types with heavy-tailed (Pareto) lengths
and event times spread over a year, loaded in time order so global positions follow occurred_at as in
production; probe streams of exact lengths with snapshots every 100 events (the last 3 kept, the newest 50
events behind the head); a double-entry ledger of 2–4-leg postings; inventory items (two hot ones);
idempotency keys in every status. Bulk COPY runs with the tables' row triggers off; the rules they enforce are
checked on the loaded rows before COMMIT, and snapshots go through events.create_snapshot, so the data is
valid by the database's own rules. Deterministic for a given shape (seed), apart from ids the server
generates.
"""
from __future__ import annotations

import bisect
import contextlib
import hashlib
import itertools
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

YEAR_MS = 365 * 24 * 3600 * 1000
_STREAM_BITS = 24  # events are sorted as (time_ms << 24 | stream index): up to 16.7 M streams

# stream type → (share of streams, first event type, later event types, payload keys)
STREAM_TYPES: dict[str, tuple[float, str, tuple[str, ...], tuple[str, ...]]] = {
    "LEAD": (0.40, "LeadCaptured", ("LeadScored", "LeadQualified", "LeadContacted", "LeadLost"),
             ("score", "source", "email_domain", "owner", "stage", "country", "utm_campaign", "notes")),
    "CAMPAIGN": (0.30, "CampaignCreated",
                 ("BudgetChanged", "CampaignPaused", "CampaignResumed", "MetricsRecorded"),
                 ("name", "daily_budget", "currency", "status", "channel", "impressions", "clicks", "spend")),
    "AD_SET": (0.15, "AdSetCreated", ("BidChanged", "CreativeAttached", "MetricsRecorded"),
               ("bid", "audience", "placement", "creative_id", "impressions", "clicks", "ctr", "status")),
    "BUDGET": (0.10, "BudgetOpened", ("SpendRecorded", "LimitRaised", "BudgetClosed"),
               ("limit", "spent", "currency", "period", "owner", "status", "alert_at", "notes")),
    "INVOICE": (0.05, "InvoiceIssued", ("PaymentReceived", "ReminderSent", "InvoiceVoided"),
                ("number", "amount", "currency", "due_date", "status", "paid", "customer", "notes")),
}
ACCOUNT_TYPES = ("CASH", "BANK", "ACCOUNTS_RECEIVABLE", "ACCOUNTS_PAYABLE", "CUSTOMER_CREDIT", "REVENUE",
                 "AD_SPEND", "EXPENSE", "TAX_PAYABLE", "EQUITY", "SUSPENSE")
HOT_SKUS = ("HOT-0", "HOT-1")


@dataclass(frozen=True)
class DatasetShape:
    """How much to generate. Everything but ``events`` is derived from it unless given."""

    events: int = 100_000
    seed: int = 6
    probe_lengths: tuple[int, ...] = (100, 1_000, 10_000)
    snapshot_every: int = 100
    snapshots_kept: int = 3
    tenants: int | None = None
    pareto_alpha: float = 1.2
    items_per_tenant: int = 20

    @property
    def tenant_count(self) -> int:
        return self.tenants or max(20, self.events // 1_000)

    @property
    def max_stream_length(self) -> int:
        return max(500, self.events // 50)

    @property
    def ledger_transactions(self) -> int:
        return max(1_000, self.events // 10)

    @property
    def request_keys(self) -> int:
        return max(500, self.events // 20)


@dataclass
class Dataset:
    """What was loaded, for the benchmarks to pick their targets from."""

    shape: DatasetShape
    tenant_ids: list[uuid.UUID]  # largest tenant first
    probe_streams: dict[int, str]  # length → stream_id, all in tenant_ids[0], stream type CAMPAIGN
    stream_count: int
    event_count: int
    snapshot_count: int
    ledger_transactions: int
    ledger_entries: int
    inventory_items: int
    request_keys: int
    load_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def probe_tenant(self) -> uuid.UUID:
        return self.tenant_ids[0]


@dataclass
class _Stream:
    tenant: int
    stream_id: str
    stream_type: str
    length: int
    start_ms: int
    end_ms: int


def _zipf_cumulative(n: int, exponent: float = 1.0) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank ** exponent) for rank in range(1, n + 1)))


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    return bisect.bisect_right(cumulative, rng.random() * cumulative[-1])


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def plan_streams(shape: DatasetShape, rng: random.Random) -> list[_Stream]:
    """Probe streams first (tenant 0, exact lengths, the whole year), then heavy-tailed streams until the
    event budget is spent."""
    streams = [_Stream(0, f"campaign-probe-{length}", "CAMPAIGN", length, 0, YEAR_MS)
               for length in shape.probe_lengths]
    budget = shape.events - sum(shape.probe_lengths)
    tenant_weights = _zipf_cumulative(shape.tenant_count)
    type_names = list(STREAM_TYPES)
    type_weights = list(itertools.accumulate(STREAM_TYPES[t][0] for t in type_names))
    serial = itertools.count(1)
    while budget > 0:
        length = min(budget, shape.max_stream_length, int(rng.paretovariate(shape.pareto_alpha)))
        stream_type = type_names[_pick(rng, type_weights)]
        start = rng.randrange(YEAR_MS)
        stream_id = f"{stream_type.lower().replace('_', '-')}-{next(serial):07d}"
        streams.append(_Stream(_pick(rng, tenant_weights), stream_id, stream_type, length, start,
                               rng.randrange(start, YEAR_MS + 1)))
        budget -= length
    return streams


def _payload_pools(rng: random.Random, size: int = 256) -> dict[str, list[str]]:
    """Per stream type, ``size`` distinct payloads of 2–4 of the type's keys (cheaper than one per event)."""
    def one(keys: tuple[str, ...]) -> str:
        return json.dumps({
            k: round(rng.uniform(0, 10_000), 2) if rng.random() < 0.5 else f"{k}-{rng.randrange(1000)}"
            for k in rng.sample(keys, rng.randint(2, 4))})
    return {t: [one(spec[3]) for _ in range(size)] for t, spec in STREAM_TYPES.items()}


def _event_rows(streams: list[_Stream], rng: random.Random, tenant_ids: list[uuid.UUID], anchor: datetime):
    """Rows for COPY in time order (ties keep version order): versions 1..length per stream."""
    keys: list[int] = []
    random_ = rng.random
    for index, stream in enumerate(streams):
        start, span = stream.start_ms, stream.end_ms - stream.start_ms
        times = sorted(int(start + random_() * span) for _ in range(stream.length))
        keys.extend((t << _STREAM_BITS) | index for t in times)
    keys.sort()
    payloads = _payload_pools(rng)
    metadata = [f'{{"correlation_id": "{_uuid(rng)}", "source": "api"}}' for _ in range(1024)]
    versions = [0] * len(streams)
    mask = (1 << _STREAM_BITS) - 1
    origin = anchor - timedelta(milliseconds=YEAR_MS)
    for key in keys:
        index = key & mask
        stream = streams[index]
        versions[index] += 1
        _, first, later, _ = STREAM_TYPES[stream.stream_type]
        event_type = first if versions[index] == 1 else later[int(random_() * len(later))]
        yield (tenant_ids[stream.tenant], stream.stream_id, stream.stream_type, versions[index], event_type,
               payloads[stream.stream_type][rng.getrandbits(8)], metadata[rng.getrandbits(10)],
               origin + timedelta(milliseconds=key >> _STREAM_BITS))


def _snapshot_versions(shape: DatasetShape, stream: _Stream, probe: bool) -> list[int]:
    """Probe streams: every ``snapshot_every`` events, the last ``snapshots_kept`` kept, the newest half an
    interval behind the head (so rehydration always folds the same number of events). Other streams of at
    least two intervals: one snapshot at the last whole interval."""
    every = shape.snapshot_every
    if probe:
        newest = stream.length - every // 2
        return [v for v in range(newest - every * (shape.snapshots_kept - 1), newest + 1, every) if v >= 1]
    if stream.length >= 2 * every:
        return [stream.length // every * every]
    return []


def _load_tenants(conn: psycopg.Connection, shape: DatasetShape, rng: random.Random) -> list[uuid.UUID]:
    tenant_ids = [_uuid(rng) for _ in range(shape.tenant_count)]
    with conn.cursor().copy("COPY iam.tenants (id, name) FROM STDIN") as copy:
        for rank, tenant_id in enumerate(tenant_ids):
            copy.write_row((tenant_id, f"bench-tenant-{rank:05d}-{tenant_id.hex[:8]}"))
    return tenant_ids


@contextlib.contextmanager
def row_triggers_off(conn: psycopg.Connection, *tables: str) -> Iterator[None]:
    """Inside the caller's transaction: the tables' user triggers off for a bulk load, then back exactly as
    they were (ALWAYS / ORIGIN / REPLICA). The caller checks the loaded rows by the triggers' rules before
    COMMIT."""
    states = conn.execute(
        "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger"
        " WHERE tgrelid = ANY(%s::regclass[]) AND NOT tgisinternal", (list(tables),)).fetchall()
    for table in tables:
        conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.SQL(table)))
    yield
    for table, trigger, state in states:
        conn.execute(sql.SQL("ALTER TABLE {} ENABLE {} TRIGGER {}").format(
            sql.SQL(table), sql.SQL(_ENABLE_MODE[state]), sql.Identifier(trigger)))


_ENABLE_MODE = {"O": "", "A": "ALWAYS", "R": "REPLICA"}


def _require_none(conn: psycopg.Connection, what: str, query: str) -> None:
    found = conn.execute(query).fetchone()[0]
    if found:
        raise AssertionError(f"bench data: {found} {what}")


def _load_events(conn: psycopg.Connection, streams: list[_Stream], rng: random.Random,
                 tenant_ids: list[uuid.UUID], anchor: datetime) -> int:
    """COPY with the per-row version trigger off (it would look up every stream's head once per row); the rule
    it enforces — versions 1..n without gaps, one stream_type per stream — is checked on the whole table
    instead."""
    count = 0
    with conn.transaction(), row_triggers_off(conn, "events.event_store"):
        with conn.cursor().copy("COPY events.event_store (tenant_id, stream_id, stream_type, version,"
                                " event_type, payload, metadata, occurred_at) FROM STDIN") as copy:
            for row in _event_rows(streams, rng, tenant_ids, anchor):
                copy.write_row(row)
                count += 1
        _require_none(conn, "streams with gaps or several types", """
            SELECT count(*) FROM (SELECT 1 FROM events.event_store GROUP BY tenant_id, stream_id
                                  HAVING min(version) <> 1 OR max(version) <> count(*)
                                      OR min(stream_type) <> max(stream_type)) AS bad""")
    return count


def _load_snapshots(conn: psycopg.Connection, shape: DatasetShape, streams: list[_Stream],
                    tenant_ids: list[uuid.UUID]) -> int:
    probes = set(shape.probe_lengths)
    calls = [(tenant_ids[s.tenant], s.stream_id, v)
             for n, s in enumerate(streams) for v in _snapshot_versions(shape, s, n < len(probes))]
    with conn.transaction(), conn.cursor() as cur:
        # In version order per stream, so each snapshot's check folds only from the previous one.
        cur.executemany("SELECT events.create_snapshot(%s, %s, %s)", calls)
    return len(calls)


def _legs(rng: random.Random) -> list[tuple[str, int, int]]:
    """2 legs (70 %), 3 (20 %) or 4 (10 %), balanced, amounts in cents as integers."""
    count = rng.choices((2, 3, 4), weights=(70, 20, 10))[0]
    accounts = rng.sample(ACCOUNT_TYPES, count)
    debits = [rng.randint(100, 5_000_00) for _ in range(count // 2)]
    total = sum(debits)
    credits_ = [total] if count - len(debits) == 1 else [total // 2, total - total // 2]
    return ([(a, amount, 1) for a, amount in zip(accounts, debits, strict=False)]
            + [(a, amount, -1) for a, amount in zip(accounts[len(debits):], credits_, strict=True)])


def _load_ledger(conn: psycopg.Connection, shape: DatasetShape, rng: random.Random,
                 tenant_ids: list[uuid.UUID], anchor: datetime) -> int:
    """Headers and legs by COPY with the ledger's row triggers off (created_xid keeps its column default);
    their rules — at least two legs, balanced — are checked on the whole ledger before COMMIT."""
    weights = _zipf_cumulative(len(tenant_ids))
    origin = anchor - timedelta(milliseconds=YEAR_MS)
    times = sorted(rng.randrange(YEAR_MS) for _ in range(shape.ledger_transactions))
    headers, legs = [], []
    for n, offset in enumerate(times):
        tx_id, tenant = _uuid(rng), tenant_ids[_pick(rng, weights)]
        currency = "EUR" if rng.random() < 0.8 else "USD"
        posted = origin + timedelta(milliseconds=offset)
        headers.append((tx_id, tenant, currency, f"posting {n}", posted))
        legs.extend((tenant, tx_id, account, f"{cents // 100}.{cents % 100:02d}", direction, currency, posted)
                    for account, cents, direction in _legs(rng))
    with conn.transaction(), row_triggers_off(conn, "finanzas.transactions", "finanzas.ledger_entries"), \
            conn.cursor() as cur:
        with cur.copy("COPY finanzas.transactions (id, tenant_id, currency, description, posted_at)"
                      " FROM STDIN") as c:
            for row in headers:
                c.write_row(row)
        with cur.copy("COPY finanzas.ledger_entries (tenant_id, transaction_id, account_type, amount,"
                      " direction, currency, posted_at) FROM STDIN") as c:
            for row in legs:
                c.write_row(row)
        _require_none(conn, "unbalanced or one-legged postings", """
            SELECT count(*) FROM finanzas.transactions AS t
             WHERE NOT EXISTS (SELECT 1 FROM finanzas.ledger_entries AS e WHERE e.transaction_id = t.id
                               HAVING count(*) >= 2 AND sum(e.amount * e.direction) = 0)""")
    return len(legs)


def _load_inventory(conn: psycopg.Connection, shape: DatasetShape, rng: random.Random,
                    tenant_ids: list[uuid.UUID]) -> int:
    rows = [(tenant_ids[0], sku, f"hot item {sku}", 1_000_000_000, 0, 1) for sku in HOT_SKUS]
    for tenant in tenant_ids:
        for n in range(shape.items_per_tenant):
            on_hand = rng.randint(0, 1_000)
            rows.append((tenant, f"SKU-{n:05d}", f"item {n}", on_hand, rng.randint(0, on_hand),
                         rng.randint(1, 50)))
    with conn.cursor().copy("COPY stock.inventory_items (tenant_id, sku, name, quantity_on_hand,"
                            " quantity_reserved, version) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


def _load_request_keys(conn: psycopg.Connection, shape: DatasetShape, rng: random.Random,
                       tenant_ids: list[uuid.UUID], anchor: datetime) -> int:
    weights = _zipf_cumulative(len(tenant_ids))
    with conn.cursor().copy("COPY sys.request_keys (tenant_id, idempotency_key, payload_hash, status,"
                            " response, error, lock_token, locked_at, lease_expires_at, attempts, created_at,"
                            " completed_at, expires_at) FROM STDIN") as copy:
        for n in range(shape.request_keys):
            created = anchor - timedelta(seconds=rng.randrange(23 * 3600))
            status = rng.choices(("COMPLETED", "FAILED", "PROCESSING"), weights=(85, 10, 5))[0]
            copy.write_row((
                tenant_ids[_pick(rng, weights)], f"req-{n:08d}",
                hashlib.sha256(str(n).encode()).hexdigest(), status,
                '{"status": 201}' if status == "COMPLETED" else None,
                "upstream timeout" if status == "FAILED" else None,
                _uuid(rng), created, created + timedelta(minutes=5), 1,
                created, None if status == "PROCESSING" else created + timedelta(seconds=1),
                created + timedelta(hours=24)))
    return shape.request_keys


def load_dataset(conn: psycopg.Connection, shape: DatasetShape = DatasetShape()) -> Dataset:
    """Generate and load ``shape`` into the migrated database behind ``conn`` (autocommit, a role that owns
    the schema), then VACUUM ANALYZE, as autovacuum would have done in production."""
    rng = random.Random(shape.seed)
    anchor = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    seconds: dict[str, float] = {}

    def timed(step: str, load, *args):
        started = time.perf_counter()
        result = load(*args)
        seconds[step] = round(time.perf_counter() - started, 3)
        return result

    tenant_ids = timed("tenants", _load_tenants, conn, shape, rng)
    streams = plan_streams(shape, rng)
    events = timed("events", _load_events, conn, streams, rng, tenant_ids, anchor)
    snapshots = timed("snapshots", _load_snapshots, conn, shape, streams, tenant_ids)
    entries = timed("ledger", _load_ledger, conn, shape, rng, tenant_ids, anchor)
    items = timed("inventory", _load_inventory, conn, shape, rng, tenant_ids)
    keys = timed("request_keys", _load_request_keys, conn, shape, rng, tenant_ids, anchor)
    for table in ("iam.tenants", "events.event_store", "events.snapshots", "finanzas.transactions",
                  "finanzas.ledger_entries", "stock.inventory_items", "sys.request_keys"):
        timed(f"vacuum {table}", conn.execute, f"VACUUM (ANALYZE) {table}")
    return Dataset(shape=shape, tenant_ids=tenant_ids,
                   probe_streams={s.length: s.stream_id for s in streams[:len(shape.probe_lengths)]},
                   stream_count=len(streams), event_count=events, snapshot_count=snapshots,
                   ledger_transactions=shape.ledger_transactions, ledger_entries=entries,
                   inventory_items=items, request_keys=keys, load_seconds=seconds)

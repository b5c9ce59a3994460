"""Data for the growth suite: one probe tenant of fixed size in tables that grow around it.

The operator reads (a tenant's active sagas, its stream summary, its migration report, its snapshot cleanup)
must cost what that tenant holds, not what the database holds. ``Growth`` loads the probe tenant once — 150
active and 50 finished sagas, 100 streams of 10 events with a snapshot at every version, 10 completed batches
of 100 migrated signals — and then fills ``sys.sagas``, ``events.event_store``, ``events.snapshots`` and
``migration.raw_signals`` with other tenants' rows up to a total size (10^3 … 10^6 rows each), on the server
(INSERT … SELECT generate_series, with the foreign-key checks of session_replication_role = replica off:
a superuser's load). Rows are valid by the schema's rules: finished sagas with their steps,
gapless streams of one type, snapshots equal to the fold (every payload is ``{"k": 1}``, so is every state),
batches whose counts match their rows. Bulk inserts run with the tables' row triggers off (they would check
each row against its stream); their rules hold by construction.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import psycopg

from leadboost_schema.bench.data import row_triggers_off

FILLER_TENANTS = 100
STREAM_LENGTH = 10
BATCH_SIZE = 1_000
PROBE_ACTIVE_SAGAS, PROBE_FINISHED_SAGAS = 150, 50
PROBE_STREAMS, PROBE_BATCHES = 100, 10
GROWN_TABLES = ("sys.sagas", "events.event_store", "events.snapshots", "migration.raw_signals")


@dataclass
class Growth:
    """``Growth(conn).grow_to(rows)``: each grown table holds ``rows`` rows (at least the probe tenant's)."""

    conn: psycopg.Connection  # autocommit, the schema owner
    probe_tenant: uuid.UUID | None = None
    filler: int = 0  # rows of other tenants in each grown table
    seconds: dict[str, float] = field(default_factory=dict)  # load time per step, summed over the sizes

    def _timed(self, step: str, statement: str, params: dict | None = None) -> None:
        started = time.perf_counter()
        self.conn.execute(statement, params)
        self.seconds[step] = round(self.seconds.get(step, 0.0) + time.perf_counter() - started, 3)

    def load_probe(self) -> uuid.UUID:
        """The probe tenant and its fixed data; the filler tenants (no rows yet)."""
        conn = self.conn
        self.probe_tenant = conn.execute(
            "INSERT INTO iam.tenants (name) VALUES ('growth-probe') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO iam.tenants (name) SELECT 'growth-filler-' || g"
                     " FROM generate_series(1, %s) AS g", (FILLER_TENANTS,))
        with conn.transaction():
            conn.execute(_PROBE_SAGAS, {"tenant": self.probe_tenant, "active": PROBE_ACTIVE_SAGAS,
                                        "finished": PROBE_FINISHED_SAGAS})
            with row_triggers_off(conn, "events.event_store", "events.snapshots"):
                conn.execute(_EVENTS, {"tenants": [self.probe_tenant], "first": 0,
                                       "count": PROBE_STREAMS * STREAM_LENGTH, "prefix": "probe"})
                conn.execute(_SNAPSHOTS, {"tenants": [self.probe_tenant], "prefix": "probe"})
            conn.execute(_BATCHES, {"tenants": [self.probe_tenant], "first": 0,
                                    "batches": PROBE_BATCHES, "size": 100, "prefix": "probe"})
        return self.probe_tenant

    def grow_to(self, rows: int) -> None:
        """Add other tenants' rows until each grown table holds ``rows`` (nothing when it already does), then
        VACUUM ANALYZE them as autovacuum would."""
        probe_rows = PROBE_ACTIVE_SAGAS + PROBE_FINISHED_SAGAS
        target = max(0, rows - probe_rows)
        target -= target % BATCH_SIZE  # whole batches and whole streams
        if target <= self.filler:
            return
        first, count, conn = self.filler, target - self.filler, self.conn
        tenants = [row[0] for row in conn.execute(
            "SELECT id FROM iam.tenants WHERE name LIKE 'growth-filler-%' ORDER BY name")]
        with conn.transaction():
            # Foreign keys are satisfied by construction: skip their per-row checks (superuser only).
            conn.execute("SET LOCAL session_replication_role = replica")
            self._timed("sagas", _FINISHED_SAGAS, {"tenants": tenants, "first": first, "count": count})
            with row_triggers_off(conn, "events.event_store", "events.snapshots"):
                self._timed("events", _EVENTS, {"tenants": tenants, "first": first, "count": count,
                                                "prefix": "fill"})
                self._timed("snapshots", _SNAPSHOTS_OF_RANGE, {"tenants": tenants, "first": first,
                                                               "count": count})
            self._timed("migration", _BATCHES, {"tenants": tenants, "first": first // BATCH_SIZE,
                                                "batches": count // BATCH_SIZE, "size": BATCH_SIZE,
                                                "prefix": "fill"})
        self.filler = target
        for table in ("iam.tenants", "sys.saga_steps", "migration.batch_control", *GROWN_TABLES):
            self._timed("vacuum", f"VACUUM (ANALYZE) {table}")


# The probe tenant's sagas: active ones (RUNNING, two PENDING steps) and finished ones (COMPLETED, one step).
_PROBE_SAGAS = """
WITH active AS (
    INSERT INTO sys.sagas (tenant_id, saga_type, state, step_count)
    SELECT %(tenant)s, 'growth.probe', 'RUNNING', 2 FROM generate_series(1, %(active)s)
    RETURNING id, tenant_id
), finished AS (
    INSERT INTO sys.sagas (tenant_id, saga_type, state, step_count, completed_at)
    SELECT %(tenant)s, 'growth.probe', 'COMPLETED', 1, now() FROM generate_series(1, %(finished)s)
    RETURNING id, tenant_id
)
INSERT INTO sys.saga_steps (saga_id, tenant_id, step_index, step_name, status, succeeded_at)
SELECT id, tenant_id, step, 'step' || step, 'PENDING', NULL FROM active, generate_series(1, 2) AS step
UNION ALL
SELECT id, tenant_id, 1, 'step1', 'SUCCEEDED', now() FROM finished
"""

# Other tenants' sagas, all finished (the history an operator's list must not read).
_FINISHED_SAGAS = """
WITH finished AS (
    INSERT INTO sys.sagas (tenant_id, saga_type, state, step_count, started_at, updated_at, completed_at)
    SELECT (%(tenants)s::uuid[])[1 + g %% cardinality(%(tenants)s::uuid[])], 'growth.filler', 'COMPLETED', 1,
           now() - interval '1 day', now() - interval '1 day', now() - interval '1 day'
      FROM generate_series(%(first)s, %(first)s + %(count)s - 1) AS g
    RETURNING id, tenant_id
)
INSERT INTO sys.saga_steps (saga_id, tenant_id, step_index, step_name, status, succeeded_at)
SELECT id, tenant_id, 1, 'step1', 'SUCCEEDED', now() - interval '1 day' FROM finished
"""

# Streams of STREAM_LENGTH events, a stream per tenant in turn; rows first .. first + count - 1.
_EVENTS = f"""
INSERT INTO events.event_store (tenant_id, stream_id, stream_type, version, event_type, payload, occurred_at)
SELECT (%(tenants)s::uuid[])[1 + (g / {STREAM_LENGTH}) %% cardinality(%(tenants)s::uuid[])],
       %(prefix)s || '-' || g / {STREAM_LENGTH}, 'LEAD', 1 + g %% {STREAM_LENGTH},
       CASE WHEN g %% {STREAM_LENGTH} = 0 THEN 'LeadCaptured' ELSE 'LeadScored' END, '{{"k": 1}}',
       now() - interval '1 day' + g * interval '1 millisecond'
  FROM generate_series(%(first)s, %(first)s + %(count)s - 1) AS g
"""

# A snapshot at every version of the probe tenant's streams (each state is the fold: {"k": 1}).
_SNAPSHOTS = """
INSERT INTO events.snapshots (tenant_id, stream_id, version, state)
SELECT tenant_id, stream_id, version, '{"k": 1}' FROM events.event_store
 WHERE tenant_id = ANY(%(tenants)s::uuid[]) AND stream_id LIKE %(prefix)s || '-%%'
"""

# A snapshot at every version of the filler streams just added (the same tenant and stream formula as _EVENTS).
_SNAPSHOTS_OF_RANGE = f"""
INSERT INTO events.snapshots (tenant_id, stream_id, version, state)
SELECT (%(tenants)s::uuid[])[1 + (g / {STREAM_LENGTH}) %% cardinality(%(tenants)s::uuid[])],
       'fill-' || g / {STREAM_LENGTH}, 1 + g %% {STREAM_LENGTH}, '{{"k": 1}}'
  FROM generate_series(%(first)s, %(first)s + %(count)s - 1) AS g
"""

# COMPLETED batches of raw_signals whose counts match their rows, a tenant per batch in turn.
_BATCHES = """
WITH batches AS (
    INSERT INTO migration.batch_control (tenant_id, firebase_id, collection, status, expected_count,
                                         processed_count, started_at, finished_at)
    SELECT (%(tenants)s::uuid[])[1 + b %% cardinality(%(tenants)s::uuid[])], %(prefix)s || '-batch-' || b,
           'raw_signals', 'COMPLETED', %(size)s, %(size)s, now() - interval '2 hours', now() - interval '1 hour'
      FROM generate_series(%(first)s, %(first)s + %(batches)s - 1) AS b
    RETURNING id, tenant_id, firebase_id
)
INSERT INTO migration.raw_signals (tenant_id, firebase_id, batch_id, signal_type, payload)
SELECT tenant_id, firebase_id || '-' || n, id, 'web.visit', '{"k": 1}'
  FROM batches, generate_series(1, %(size)s) AS n
"""

"""Writing one chunk of mapped documents: COPY into a temp table, then INSERT … ON CONFLICT (firebase_id) DO NOTHING
into the target (in source order: of two documents with one firebase_id the first wins), its
``migration.batch_control`` rows and the run's checkpoint, all in one short transaction.

A chunk's documents are split by (table, tenant) into batches, because a batch row names one collection and one
tenant (``validate_migrated_data`` checks that its rows match). Batch ``firebase_id`` = ``<run>.<chunk>.<table>.
<tenant>``; every batch row of a chunk carries the chunk's checkpoint in ``resume_cursor``, so the newest batch of
a run says where to resume. Row locks are held only from the INSERT to the commit of one chunk.

The usual transaction takes a faster way to the same end (``_write_direct``): the firebase_ids already in the target
are asked for first (one indexed lookup), the chunk's duplicates are settled in Python (first wins), the batch rows go
in already COMPLETED with their counts, and the new rows are COPYed straight into the target with ids that grow
with time (UUID version 7 layout), so the primary key's index is appended to instead of written at random pages.
A row the database refuses there (a firebase_id inserted meanwhile by the dual-writing backend, a CHECK) rolls the
transaction back and it is written again by the staged INSERT … ON CONFLICT above.

Foreign keys on the direct way: run by a superuser, the loader checks them itself instead of the two row triggers
per row (``tenant_id`` → ``iam.tenants``, ``batch_id`` → ``migration.batch_control``), which cost about half of the
COPY: the transaction runs with ``session_replication_role = replica`` (as logical replication's apply does), locks
the tenants it writes ``FOR KEY SHARE`` (what each trigger would do, once per tenant instead of once per row) and
goes the staged way if one is gone; every ``batch_id`` is a batch row inserted just before in the same
transaction. It does so only while the four tables have no other trigger that the setting would silence
(``loader_foreign_keys``; a non-superuser gets the triggers).
"""
from __future__ import annotations

import os
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from leadboost_schema.backfill.documents import Checkpoint
from leadboost_schema.backfill.mapping import MappedRow, TableMapping, copy_text

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
CHUNK_DIGITS = 7
# Errors that say one row is bad (the chunk is then replayed row by row to find it) rather than the connection.
ROW_ERRORS = (psycopg.errors.DataError, psycopg.errors.IntegrityError, psycopg.errors.ProgramLimitExceeded)
# A lock wait over lock_timeout or a deadlock with the dual-writing backend: the chunk is rolled back whole and
# tried again (it is idempotent), a few times, backing off.
RETRYABLE = (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected,
             psycopg.errors.SerializationFailure)
RETRIES = 5
STAGE_TYPES = {"text": "text", "timestamptz": "timestamptz", "numeric": "numeric", "jsonb": "jsonb"}


@dataclass
class ChunkOutcome:
    """What one committed chunk did: rows inserted per table, staged rows already present (same tenant), and the
    documents refused by the database (position, table, reason)."""

    inserted: dict[str, int] = field(default_factory=dict)
    already_present: int = 0
    refused: list[tuple[int, str, str]] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)


def stage_name(table: str) -> sql.Identifier:
    return sql.Identifier(f"backfill_stage_{table}")


def create_stage_tables(conn: psycopg.Connection, tables: dict[str, TableMapping]) -> None:
    """One temp table per target (emptied at each commit): the chunk's rows land there by COPY first."""
    for table, mapping in tables.items():
        columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(STAGE_TYPES[c.kind]))
                                     for c in mapping.columns)
        conn.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (batch text NOT NULL, tenant_id uuid NOT NULL, "
                             "firebase_id text NOT NULL, position bigint NOT NULL, {}) ON COMMIT DELETE ROWS"
                             ).format(stage_name(table), columns))


def batch_key(run_id: str, chunk: int, table: str, tenant: str) -> str:
    return f"{run_id}.{chunk:0{CHUNK_DIGITS}d}.{table}.{tenant}"


def present_ids_query(table: str) -> sql.Composed:
    """(firebase_id, tenant) of the given firebase_ids already in ``table``; its parameter is the ids joined by "/"
    (a firebase_id is a path segment: it has none), one text the server splits, which costs the client nothing where
    a list is adapted element by element."""
    return sql.SQL("SELECT firebase_id, tenant_id::text FROM {} WHERE firebase_id = ANY (string_to_array(%s, '/'))"
                   ).format(sql.Identifier("migration", table))


def last_checkpoint(conn: psycopg.Connection, run_id: str) -> tuple[int, Checkpoint] | None:
    """(chunk number, checkpoint) of the run's newest committed chunk, or None when it has none."""
    row = conn.execute("SELECT firebase_id, resume_cursor FROM migration.batch_control"
                       " WHERE starts_with(firebase_id, %s) AND resume_cursor IS NOT NULL"
                       " ORDER BY firebase_id DESC LIMIT 1", (run_id + ".",)).fetchone()
    if row is None:
        return None
    return int(row[0][len(run_id) + 1:].split(".")[0]), Checkpoint.parse(row[1])


class TenantGone(Exception):
    """A tenant of the transaction was deleted after the mapping saw it: write it the staged way."""


# Triggers on the four tables that session_replication_role = replica would silence, except those whose work the
# loader does itself: the internal triggers of exactly three foreign keys — a target's tenant_id → iam.tenants (id)
# and batch_id → migration.batch_control (id) (the loader locks the transaction's tenants FOR KEY SHARE, as the
# trigger would, and every batch_id is a batch row the transaction inserted), and batch_control's own tenant_id →
# iam.tenants (id) (the same lock). Any other trigger — a foreign key added later included — is listed, and then
# the triggers run. (The referenced side's triggers on batch_control fire on its DELETE or key UPDATE: the loader
# never deletes a batch row nor changes its id.)
SILENCED_TRIGGERS = """
SELECT t.tgrelid::regclass::text, t.tgname FROM pg_trigger AS t
 WHERE t.tgrelid = ANY ('{migration.raw_signals, migration.campaigns, migration.audit_logs,
                         migration.batch_control}'::regclass[])
   AND t.tgenabled = 'O'
   AND NOT (t.tgisinternal AND EXISTS (
       SELECT FROM pg_constraint AS c
        WHERE c.oid = t.tgconstraint AND c.contype = 'f'
          AND c.conrelid = ANY ('{migration.raw_signals, migration.campaigns, migration.audit_logs,
                                  migration.batch_control}'::regclass[])
          AND (c.confrelid = 'iam.tenants'::regclass
               OR (c.confrelid = 'migration.batch_control'::regclass
                   AND c.conrelid <> 'migration.batch_control'::regclass))
          AND c.conkey = ARRAY[(SELECT a.attnum FROM pg_attribute AS a WHERE a.attrelid = c.conrelid
                                   AND a.attname = CASE c.confrelid WHEN 'iam.tenants'::regclass THEN 'tenant_id'
                                                                    ELSE 'batch_id' END)]
          AND c.confkey = ARRAY[(SELECT a.attnum FROM pg_attribute AS a WHERE a.attrelid = c.confrelid
                                    AND a.attname = 'id')]))
"""


def loader_may_check_foreign_keys(conn: psycopg.Connection) -> bool:
    """Whether the direct way may silence the foreign-key triggers (module doc): a superuser (the setting needs
    one), and no trigger on the targets but the foreign keys' that replica mode would silence."""
    if conn.execute("SELECT current_setting('is_superuser')").fetchone()[0] != "on":
        return False
    return not conn.execute(SILENCED_TRIGGERS).fetchall()


class TimeOrderedIds:
    """Row ids in the UUID version 7 layout (milliseconds since 1970, then counter bits) that grow with each row,
    so consecutive inserts land on the last page of the primary key's index. Each base (the current millisecond)
    starts the counter at a random point (42 random bits, then 32 counting bits), so two writers at once do not
    collide; if they ever did, the primary key refuses the row and the transaction is written again by the staged
    path, with ids the server makes."""

    VERSION_AND_VARIANT = (0x7 << 76) | (0x2 << 62)

    def __init__(self) -> None:
        self._next = 0
        self._end = 0

    def take(self, count: int) -> int:
        """The first of ``count`` consecutive ids (as integers)."""
        if self._next + count > self._end:
            start = int.from_bytes(os.urandom(8), "big") >> 22  # 42 random bits; the low 32 bits of rand_b count
            rand_a, rand_b = start >> 30 & 0xFFF, (start & ((1 << 30) - 1)) << 32
            self._next = (time.time_ns() // 1_000_000) << 80 | self.VERSION_AND_VARIANT | rand_a << 64 | rand_b
            self._end = self._next + (1 << 32)
        first, self._next = self._next, self._next + count
        return first


class ChunkWriter:
    """Writes chunks of one run over one connection (autocommit; each chunk is its own transaction)."""

    def __init__(self, conn: psycopg.Connection, run_id: str, tables: dict[str, TableMapping],
                 on_step: Callable[[str, int], None] | None = None, check_foreign_keys_here: bool = True) -> None:
        if not RUN_ID.fullmatch(run_id):
            raise ValueError(f"run id {run_id!r}: 1-100 letters, digits, _ or -, starting with a letter or digit")
        self.conn, self.run_id, self.tables = conn, run_id, tables
        self.on_step = on_step or (lambda step, chunk: None)
        self._ids = TimeOrderedIds()
        self.hold_seconds = 0.0  # how long the last transaction held the rows it inserted (COPY/INSERT to COMMIT)
        self.loader_foreign_keys = check_foreign_keys_here and loader_may_check_foreign_keys(conn)
        create_stage_tables(conn, tables)

    def write(self, chunk: int, rows: list[tuple[int, MappedRow]], checkpoint: Checkpoint,
              before_commit: Callable[[ChunkOutcome], None] | None = None) -> ChunkOutcome:
        """Commit ``rows`` (position, row) with ``checkpoint``; a chunk with a row the database refuses is written
        again row by row, each in a savepoint, and the refused rows come back in ``refused``.
        ``before_commit(outcome)`` runs inside the transaction just before COMMIT (the quarantine's fsync)."""
        self._before_commit = before_commit or (lambda outcome: None)
        for attempt in range(RETRIES):
            try:
                try:
                    return self._write_direct(chunk, rows, checkpoint)
                except (psycopg.errors.UniqueViolation, TenantGone):  # ON CONFLICT and the triggers settle it
                    pass
                except ROW_ERRORS:
                    return self._write(chunk, rows, checkpoint, one_by_one=True)
                try:
                    return self._write(chunk, rows, checkpoint, one_by_one=False)
                except ROW_ERRORS:
                    return self._write(chunk, rows, checkpoint, one_by_one=True)
            except RETRYABLE:
                if attempt == RETRIES - 1:
                    raise
                time.sleep(0.1 * 2**attempt)
        raise AssertionError("unreachable")

    def _write_direct(self, chunk: int, rows: list[tuple[int, MappedRow]], checkpoint: Checkpoint) -> ChunkOutcome:
        """The fast way (module doc): in one round trip BEGIN, the tenants' locks and the look-up of the present
        firebase_ids; then the batch rows, the COPY, COMMIT. Row locks are held from the COPY to the COMMIT only
        (``hold_seconds``)."""
        outcome = ChunkOutcome()
        by_table: dict[str, list[tuple[int, MappedRow]]] = defaultdict(list)
        for position, row in rows:
            by_table[row.table].append((position, row))
        tenants = {row.tenant_id for _, row in rows}
        with self.conn.transaction():
            locks = self.conn.cursor()
            with self.conn.pipeline():
                if self.loader_foreign_keys:
                    self.conn.execute("SET LOCAL session_replication_role = replica")
                    locks.execute("SELECT count(*) FROM (SELECT FROM iam.tenants WHERE id = ANY (%s::uuid[])"
                                  " FOR KEY SHARE) AS t", (list(tenants),))
                lookups = {table: self.conn.execute(present_ids_query(table), (
                    "/".join([row.firebase_id for _, row in table_rows]),)) for table, table_rows in by_table.items()}
            if self.loader_foreign_keys and locks.fetchone()[0] != len(tenants):
                raise TenantGone("a tenant of the transaction is no longer in iam.tenants")
            fresh: dict[str, list[tuple[int, MappedRow]]] = {}
            counts: dict[tuple[str, str], int] = {}
            for table, table_rows in by_table.items():
                fresh[table] = self._settle(table, table_rows, dict(lookups[table].fetchall()), outcome)
                for _, row in table_rows:
                    counts.setdefault((table, row.tenant_id), 0)
                for _, row in fresh[table]:
                    counts[table, row.tenant_id] += 1
            batch_ids = self._insert_batches(chunk, counts, checkpoint.text(), outcome)
            holding = time.monotonic()
            for table, table_rows in fresh.items():
                self._copy_rows(table, table_rows, batch_ids)
                outcome.inserted[table] = len(table_rows)
            self.on_step("loaded", chunk)
            self._before_commit(outcome)
            self.on_step("before_commit", chunk)
        self.hold_seconds = time.monotonic() - holding
        self.on_step("committed", chunk)
        return outcome

    @staticmethod
    def _settle(table: str, rows: list[tuple[int, MappedRow]], owners: dict[str, str], outcome: ChunkOutcome
                ) -> list[tuple[int, MappedRow]]:
        """The rows to insert: a firebase_id already in the table (``owners``: firebase_id → tenant) or earlier
        in ``rows`` is "already present" for its own tenant and refused for another (what INSERT … ON CONFLICT
        in source order would do)."""
        fresh = []
        for position, row in rows:
            owner = owners.get(row.firebase_id)
            if owner is None:
                owners[row.firebase_id] = row.tenant_id
                fresh.append((position, row))
            elif owner == row.tenant_id:
                outcome.already_present += 1
            else:
                outcome.refused.append((position, table, f"firebase_id already loaded for another tenant ({owner}) "
                                                         "in migration." + table))
        return fresh

    def _insert_batches(self, chunk: int, counts: dict[tuple[str, str], int], cursor_text: str,
                        outcome: ChunkOutcome) -> dict[tuple[str, str], str]:
        """One COMPLETED batch row per (table, tenant) of the transaction, with the rows it is about to insert
        and the checkpoint; its id for each (time-ordered too: the rows' batch_id indexes then grow at one end)."""
        first = self._ids.take(len(counts))
        ids = {key: f"{first + n:032x}" for n, key in enumerate(counts)}
        keys = {key: batch_key(self.run_id, chunk, *key) for key in counts}
        self.conn.execute(
            "INSERT INTO migration.batch_control (id, firebase_id, tenant_id, collection, status, started_at,"
            " finished_at, processed_count, resume_cursor)"
            " SELECT i, k, t, c, 'COMPLETED', now(), clock_timestamp(), n, %s"
            " FROM unnest(%s::uuid[], %s::text[], %s::uuid[], %s::text[], %s::int[]) AS b (i, k, t, c, n)",
            (cursor_text, list(ids.values()), list(keys.values()), [t for _, t in counts],
             [table for table, _ in counts], list(counts.values())))
        outcome.batches.extend(keys.values())
        return ids

    def _copy_rows(self, table: str, rows: list[tuple[int, MappedRow]], batch_ids: dict[tuple[str, str], str]
                   ) -> None:
        if not rows:
            return
        first = self._ids.take(len(rows))
        tab = "\t"
        lines = [tab.join((f"{first + n:032x}", row.tenant_id, copy_text(row.firebase_id),
                           batch_ids[table, row.tenant_id], row.fields)) for n, (_, row) in enumerate(rows)]
        names = sql.SQL(", ").join(map(sql.Identifier, self.tables[table].column_names))
        with self.conn.cursor().copy(sql.SQL("COPY {} (id, tenant_id, firebase_id, batch_id, {}) FROM STDIN").format(
                sql.Identifier("migration", table), names)) as copy:
            copy.write(("\n".join(lines) + "\n").encode("utf-8"))

    def _write(self, chunk: int, rows: list[tuple[int, MappedRow]], checkpoint: Checkpoint,
               one_by_one: bool) -> ChunkOutcome:
        outcome = ChunkOutcome()
        holding = time.monotonic()
        by_table: dict[str, list[tuple[int, MappedRow]]] = defaultdict(list)
        for position, row in rows:
            by_table[row.table].append((position, row))
        cursor_text = checkpoint.text()
        with self.conn.transaction():
            for table, table_rows in by_table.items():
                outcome.inserted[table] = 0
                groups = [[r] for r in table_rows] if one_by_one else [table_rows]
                for group in groups:
                    if not one_by_one:
                        self._load(chunk, table, group, cursor_text, outcome)
                        continue
                    try:
                        with self.conn.transaction():
                            self._load(chunk, table, group, cursor_text, outcome)
                    except ROW_ERRORS as error:
                        diag = error.diag
                        outcome.refused.append((group[0][0], table, f"refused by PostgreSQL [{diag.sqlstate}] "
                                                f"{diag.message_primary or error}"))
                    self.conn.execute(sql.SQL("DELETE FROM {}").format(stage_name(table)))
            self.on_step("loaded", chunk)
            if outcome.batches:
                self.conn.execute("UPDATE migration.batch_control AS b SET status = 'COMPLETED',"
                                  " finished_at = clock_timestamp(), processed_count = CASE b.collection"
                                  " WHEN 'raw_signals' THEN (SELECT count(*) FROM migration.raw_signals"
                                  " WHERE batch_id = b.id)"
                                  " WHEN 'campaigns' THEN (SELECT count(*) FROM migration.campaigns"
                                  " WHERE batch_id = b.id)"
                                  " ELSE (SELECT count(*) FROM migration.audit_logs WHERE batch_id = b.id) END"
                                  " WHERE b.firebase_id = ANY (%s) AND b.status = 'RUNNING'", (outcome.batches,))
            self._before_commit(outcome)
            self.on_step("before_commit", chunk)
        self.hold_seconds = time.monotonic() - holding
        self.on_step("committed", chunk)
        return outcome

    def _load(self, chunk: int, table: str, rows: list[tuple[int, MappedRow]], cursor_text: str,
              outcome: ChunkOutcome) -> None:
        mapping = self.tables[table]
        stage = stage_name(table)
        names = mapping.column_names
        column_list = sql.SQL(", ").join(map(sql.Identifier, names))
        lines = []
        for position, row in rows:
            batch = batch_key(self.run_id, chunk, table, row.tenant_id)
            lines.append("\t".join((batch, row.tenant_id, copy_text(row.firebase_id), str(position), row.fields)))
        with self.conn.cursor() as cur:
            with cur.copy(sql.SQL("COPY {} (batch, tenant_id, firebase_id, position, {}) FROM STDIN").format(
                    stage, column_list)) as copy:
                copy.write(("\n".join(lines) + "\n").encode("utf-8"))
            new = cur.execute(sql.SQL(
                "INSERT INTO migration.batch_control (firebase_id, tenant_id, collection, status, started_at,"
                " resume_cursor) SELECT DISTINCT batch, tenant_id, %s, 'RUNNING', now(), %s FROM {}"
                " ON CONFLICT (firebase_id) DO NOTHING RETURNING firebase_id").format(stage),
                (table, cursor_text)).fetchall()
            outcome.batches.extend(b for (b,) in new)
            cur.execute(sql.SQL(
                "INSERT INTO {target} (tenant_id, firebase_id, batch_id, {columns})"
                " SELECT s.tenant_id, s.firebase_id, b.id, {staged} FROM {stage} AS s"
                " JOIN migration.batch_control AS b ON b.firebase_id = s.batch AND b.status = 'RUNNING'"
                " ORDER BY s.position ON CONFLICT (firebase_id) DO NOTHING").format(
                target=sql.Identifier("migration", table), columns=column_list, stage=stage,
                staged=sql.SQL(", ").join(sql.Identifier("s", n) for n in names)))
            inserted = cur.rowcount
            taken = []
            if inserted < len(rows):  # some firebase_ids were there already: whose are they?
                cur.execute(sql.SQL("ANALYZE {}").format(stage))  # so the join probes the unique index
                taken = cur.execute(sql.SQL(
                    "SELECT s.position, t.tenant_id FROM {stage} AS s JOIN {target} AS t USING (firebase_id)"
                    " WHERE t.tenant_id <> s.tenant_id").format(
                    stage=stage, target=sql.Identifier("migration", table))).fetchall()
        for position, owner in taken:
            outcome.refused.append((position, table, f"firebase_id already loaded for another tenant ({owner}) "
                                                     "in migration." + table))
        outcome.inserted[table] += inserted
        outcome.already_present += len(rows) - inserted - len(taken)


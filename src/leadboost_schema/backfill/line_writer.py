"""The JSON Lines SQL path: a transaction's lines go to the server as they are and are mapped there, so Python does
no work per document (docs/backfill.md, "The SQL path").

A mapper connection (``Mapper``, in a thread: ``mapped_blocks``) COPYs a block's raw lines into
``pg_temp.backfill_lines``, runs the mapping statement (sql_mapping.py), which fills one temp table per target and
returns the positions it did not take, and COPYs those tables out. The writer (``LineWriter``), one block behind,
COPYs them into its own temp tables; Python maps only the positions left (``Mapping.map``: quarantined with its
reason, or a row after all, COPYed beside the others); then, in one round trip, the tenants are locked, one
``migration.batch_control`` row per (table, tenant) is inserted with the checkpoint, and ``INSERT … SELECT … ORDER BY
position ON CONFLICT (firebase_id) DO NOTHING`` loads each target and sets its batches' counts (the first of two
documents with one firebase_id wins, as on the Python path).

A block the server cannot take this way (a line that is not JSON or holds what jsonb refuses, a value the mapping
let through that a cast refuses, a tenant deleted meanwhile) is written by the Python path instead (``fallback``).
"""
from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg

from leadboost_schema.backfill.documents import Checkpoint, SourceDocument
from leadboost_schema.backfill.export_files import _record as record_of_line
from leadboost_schema.backfill.loader import (
    RETRIES,
    RETRYABLE,
    ROW_ERRORS,
    ChunkOutcome,
    TenantGone,
    TimeOrderedIds,
    batch_key,
)
from leadboost_schema.backfill.mapping import MappedRow, Mapping, copy_text
from leadboost_schema.backfill.reading import APPLICATION_NAME
from leadboost_schema.backfill.sql_mapping import (
    LINES,
    SqlMapping,
    create_temp_tables,
    mapped_table,
    mapping_specs,
)

Quarantined = Callable[[int, SourceDocument, str | None, str], None]  # position, document, table, reason


@dataclass
class Block:
    """A transaction's lines: non-blank, each with its line ending; ``first`` = the first one's position,
    ``afters`` = the byte offset just after each."""

    lines: list[bytes]
    first: int
    afters: list[int]

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.first + len(self.lines), self.afters[-1])

    def document(self, position: int) -> SourceDocument:
        at = position - self.first
        return record_of_line(position, self.lines[at], self.afters[at])


def blocks(path: Path, resume: Checkpoint | None, size: Callable[[], int]) -> Iterator[Block]:
    """The file's non-blank lines from ``resume`` on, ``size()`` at a time (asked before each block: the
    transaction sizer follows the server)."""
    position = resume.done if resume else 0
    offset = int(resume.after) if resume else 0
    with path.open("rb") as file:
        file.seek(offset)
        lines: list[bytes] = []
        afters: list[int] = []
        wanted = size()
        for line in file:
            offset += len(line)
            if line.strip():
                lines.append(line)
                afters.append(offset)
                if len(lines) >= wanted:
                    yield Block(lines, position, afters)
                    position += len(lines)
                    lines, afters, wanted = [], [], size()
        if lines:
            yield Block(lines, position, afters)


def copy_payload(lines: list[bytes]) -> bytes:
    """The lines as one column of COPY's text format: backslashes doubled, a carriage return escaped (JSON text
    has no raw control character but these whitespace ones, and the delimiter is \\x01, which it never has)."""
    data = b"".join(lines)
    if not data.endswith(b"\n"):
        data += b"\n"
    return data.replace(b"\\", b"\\\\").replace(b"\r", b"\\r")


class SqlPathUnusable(Exception):
    """The block goes the Python way (the reason is the message)."""


@dataclass
class MappedBlock:
    """A block as the mapper left it: the COPY text of each mapped table's rows, the positions it did not take, or
    the error that makes the whole block go the Python way."""

    block: Block
    tables: dict[str, bytes]
    left: list[int]
    error: Exception | None = None


class Mapper:
    """Maps blocks on a connection of its own (its own backend: with the writer's, two cores work), one or two
    blocks ahead of the writer. Nothing it does is durable: each block is mapped in a transaction of temp tables
    only, emptied at its commit."""

    def __init__(self, conn: psycopg.Connection, mapping: Mapping) -> None:
        self.conn, self.mapping = conn, mapping
        create_temp_tables(conn, mapping)
        self.map_sql = SqlMapping(mapping, lambda v: psycopg.sql.Literal(v).as_string(conn).replace("%", "%%")
                                  ).map_statement()

    def map(self, block: Block) -> MappedBlock:
        """``block`` mapped (a line over the mapping's max_document_bytes is left to Python unparsed)."""
        oversized = [block.first + at for at, line in enumerate(block.lines) if len(line) > self.mapping.max_bytes]
        try:
            with self.conn.transaction():
                with self.conn.cursor().copy(f"COPY {LINES} (line) FROM STDIN (DELIMITER E'\\x01')") as copy:
                    copy.write(copy_payload(block.lines))
                left = [p for (p,) in self.conn.execute(self.map_sql, {"base": block.first, "count": len(block.lines),
                                                                       "python": oversized}).fetchall()]
                tables = {}
                for table in self.mapping.tables:
                    with self.conn.cursor().copy(f"COPY {mapped_table(table)} TO STDOUT") as copy:
                        tables[table] = b"".join(bytes(data) for data in copy)
            return MappedBlock(block, tables, left)
        except ROW_ERRORS as error:  # a line jsonb refuses, a value a cast refuses: the block goes the Python way
            return MappedBlock(block, {}, [], error)



def mapped_blocks(dsn: str, mapping: Mapping, path: Path, resume: Checkpoint | None, size: Callable[[], int],
                  mappers: int = 1) -> Iterator[MappedBlock]:
    """The file's blocks, mapped on ``mappers`` connections of their own in turn (each its own backend, so the
    mapping — most of the server's work — runs beside the writer's), yielded in file order, at most ``mappers`` + 1
    ahead. One is the default: on two cores shared with the writer a second mapper measured no faster."""
    connections = [psycopg.connect(dsn, autocommit=True, application_name=APPLICATION_NAME) for _ in range(mappers)]
    threads = [ThreadPoolExecutor(1, thread_name_prefix="backfill-mapper") for _ in range(mappers)]
    try:
        workers = [Mapper(conn, mapping) for conn in connections]
        pending: deque = deque()
        for number, block in enumerate(blocks(path, resume, size)):
            pending.append(threads[number % mappers].submit(workers[number % mappers].map, block))
            if len(pending) > mappers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for thread in threads:
            thread.shutdown(wait=True, cancel_futures=True)
        for conn in connections:
            conn.close()


class LineWriter:
    """Writes mapped blocks of one run over one connection (autocommit; each block is its own transaction)."""

    def __init__(self, conn: psycopg.Connection, run_id: str, mapping: Mapping, loader_foreign_keys: bool,
                 on_step: Callable[[str, int], None]) -> None:
        self.conn, self.run_id, self.mapping = conn, run_id, mapping
        self.loader_foreign_keys, self.on_step = loader_foreign_keys, on_step
        create_temp_tables(conn, mapping)
        self._ids = TimeOrderedIds()
        self.hold_seconds = 0.0
        self.fallbacks = 0  # blocks written the Python way
        self.left_to_python = 0  # documents the SQL did not take (quarantined by Python, or mapped there)

    def write(self, chunk: int, mapped: MappedBlock, quarantined: Quarantined, sync: Callable[[], None],
              fallback: Callable[[int, Block], ChunkOutcome]) -> ChunkOutcome:
        """Commit the block's documents with its checkpoint; its bad documents go to ``quarantined`` (made durable
        by ``sync`` before the commit); ``fallback(chunk, block)`` writes it the Python way when the server cannot
        take it this way."""
        for attempt in range(RETRIES):
            try:
                if mapped.error is not None:
                    raise SqlPathUnusable(str(mapped.error))
                return self._write(chunk, mapped, quarantined, sync)
            except (*ROW_ERRORS, TenantGone, SqlPathUnusable):
                self.fallbacks += 1
                return fallback(chunk, mapped.block)
            except RETRYABLE:
                if attempt == RETRIES - 1:
                    raise
                time.sleep(0.1 * 2**attempt)
        raise AssertionError("unreachable")

    def _write(self, chunk: int, mapped: MappedBlock, quarantined: Quarantined, sync: Callable[[], None]
               ) -> ChunkOutcome:
        outcome = ChunkOutcome()
        block = mapped.block
        with self.conn.transaction():
            if self.loader_foreign_keys:
                self.conn.execute("SET LOCAL session_replication_role = replica")
            for table, data in mapped.tables.items():
                if data:
                    with self.conn.cursor().copy(f"COPY {mapped_table(table)} FROM STDIN") as copy:
                        copy.write(data)
            self.left_to_python += len(mapped.left)
            by_python: dict[str, list[tuple[int, MappedRow]]] = defaultdict(list)
            for position in mapped.left:
                document = block.document(position)
                row = self.mapping.map(document)
                if isinstance(row, MappedRow):
                    by_python[row.table].append((position, row))
                else:
                    quarantined(position, document, row.table, row.reason)
            for table, rows in by_python.items():
                self._copy_mapped(table, rows)
            sync()
            self.on_step("quarantined", chunk)
            holding = time.monotonic()
            inserted, staged = self._load(chunk, block, len(block.lines))
            for table, rows in inserted.items():
                outcome.inserted[table] = rows
                if rows < staged[table]:
                    outcome.refused += self._other_tenants(table, block)
                outcome.already_present += staged[table] - rows
            outcome.already_present -= len(outcome.refused)
            self.on_step("loaded", chunk)
            for position, table, reason in outcome.refused:
                quarantined(position, block.document(position), table, reason)
            sync()
            self.on_step("before_commit", chunk)
        self.hold_seconds = time.monotonic() - holding
        self.on_step("committed", chunk)
        return outcome

    def _copy_mapped(self, table: str, rows: list[tuple[int, MappedRow]]) -> None:
        names = "".join(f', "{c.name}"' for c in self.mapping.tables[table].columns)
        lines = ["\t".join((str(position), row.tenant_id, copy_text(row.firebase_id), row.fields))
                 for position, row in rows]
        with self.conn.cursor().copy(f"COPY {mapped_table(table)} (position, tenant_id, firebase_id{names})"
                                     " FROM STDIN") as copy:
            copy.write(("\n".join(lines) + "\n").encode("utf-8"))

    def _load(self, chunk: int, block: Block, count: int) -> tuple[dict[str, int], dict[str, int]]:
        """In one round trip: the tenants' locks (loader's foreign keys), each table's batch rows, rows and counts.
        Returns (rows inserted, rows mapped) per table."""
        tables = list(self.mapping.tables)
        first = self._ids.take(count * (len(tables) + 1))
        high, low = f"{first >> 64:016x}", (first & ((1 << 64) - 1)) - (1 << 64)
        cursor_text = block.checkpoint.text()
        cursors = {}
        with self.conn.pipeline():
            if self.loader_foreign_keys:
                union = " UNION ".join(f"SELECT tenant_id FROM {mapped_table(t)}" for t in tables)
                cursors["locks"] = self.conn.execute(
                    f"SELECT (SELECT count(*) FROM (SELECT FROM iam.tenants WHERE id IN ({union}) FOR KEY SHARE) AS l)"
                    f" = (SELECT count(*) FROM ({union}) AS u)")
            for number, table in enumerate(tables, start=1):
                mapped = mapped_table(table)
                params = {"high": high, "low": low, "base": block.first, "offset": count * number,
                          "prefix": batch_key(self.run_id, chunk, table, ""), "cursor": cursor_text}
                self.conn.execute(
                    "WITH b AS (INSERT INTO migration.batch_control (id, firebase_id, tenant_id, collection, status,"
                    " started_at, resume_cursor)"
                    " SELECT (%(high)s || lpad(to_hex(%(low)s::bigint + %(offset)s + row_number() OVER ()), 16, '0'))"
                    "::uuid, %(prefix)s || t.tenant_id, t.tenant_id, %(table)s, 'RUNNING', now(), %(cursor)s"
                    f" FROM (SELECT DISTINCT tenant_id FROM {mapped}) AS t RETURNING id, tenant_id)"
                    " INSERT INTO pg_temp.backfill_batches (id, tenant_id, collection) SELECT id, tenant_id, %(table)s"
                    " FROM b", {**params, "table": table})
                columns = "".join(f', "{c.name}"' for c in self.mapping.tables[table].columns)
                values = "".join(f', m."{c.name}"' for c in self.mapping.tables[table].columns)
                cursors[table] = self.conn.execute(
                    f"WITH ins AS (INSERT INTO migration.{table} (id, tenant_id, firebase_id, batch_id{columns})"
                    " SELECT (%(high)s || lpad(to_hex(%(low)s::bigint + (m.position - %(base)s)), 16, '0'))::uuid,"
                    f" m.tenant_id, m.firebase_id, b.id{values} FROM {mapped} AS m"
                    " JOIN pg_temp.backfill_batches AS b ON b.tenant_id = m.tenant_id AND b.collection = %(table)s"
                    " ORDER BY m.position ON CONFLICT (firebase_id) DO NOTHING RETURNING batch_id),"
                    " n AS (SELECT batch_id, count(*) AS c FROM ins GROUP BY batch_id)"
                    " UPDATE migration.batch_control AS c SET status = 'COMPLETED', finished_at = clock_timestamp(),"
                    " processed_count = COALESCE(n.c, 0)"
                    " FROM pg_temp.backfill_batches AS x LEFT JOIN n ON n.batch_id = x.id"
                    " WHERE c.id = x.id AND x.collection = %(table)s"
                    f" RETURNING c.processed_count, (SELECT count(*) FROM {mapped})", {**params, "table": table})
        if "locks" in cursors and not cursors["locks"].fetchone()[0]:
            raise TenantGone("a tenant of the transaction is no longer in iam.tenants")
        inserted, staged = {}, {}
        for table in tables:
            counts = cursors[table].fetchall()
            inserted[table] = sum(c for c, _ in counts)
            staged[table] = counts[0][1] if counts else 0
        return inserted, staged

    def _other_tenants(self, table: str, block: Block) -> list[tuple[int, str, str]]:
        """The mapped rows whose firebase_id the table holds for another tenant (an earlier row of the block, an
        earlier run, the dual-writing backend): quarantined, never dropped."""
        mapped = mapped_table(table)
        self.conn.execute(f"ANALYZE {mapped}")  # so the join probes the target's unique index
        return [(position, table, f"firebase_id already loaded for another tenant ({owner}) in migration.{table}")
                for position, owner in self.conn.execute(
                    f"SELECT m.position, t.tenant_id::text FROM {mapped} AS m JOIN migration.{table} AS t"
                    " USING (firebase_id) WHERE t.tenant_id <> m.tenant_id ORDER BY 1").fetchall()]


def wanted(source: object, choice: str, conn: psycopg.Connection, mapping: Mapping) -> bool:
    """Whether to take the SQL path: ``choice`` "sql", a JSON Lines file, and a mapping whose patterns the server's
    regular expressions read too (else every block would fail over to Python). Not "auto": measured, it is no faster
    than the Python reader process, and it puts the mapping's CPU on the database server (docs/backfill.md)."""
    if choice != "sql" or type(source).__name__ != "JsonLinesFile":
        return False
    for table in mapping_specs(mapping.document).values():
        for spec in table.values():
            if isinstance(spec, dict) and "pattern" in spec:
                try:
                    with conn.transaction():
                        conn.execute("SELECT '' ~ %s", ("^(?:" + spec["pattern"] + ")$",))
                except psycopg.errors.DataError:
                    return False
    return True

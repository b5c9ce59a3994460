"""A backfill run: read the source, map each document, write chunks under ``migration.batch_control``, resume from
the run's checkpoint, quarantine what cannot be loaded, keep off peak, and validate what was written.

``backfill(dsn, source, options)`` is the library entry point (the CLI's ``backfill`` command calls it). Reading and
mapping run in a thread, one chunk ahead of the writer, so Python's work overlaps the server's.
"""
from __future__ import annotations

import contextlib
import queue
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from collections.abc import Mapping as ReadOnlyMap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from leadboost_schema.backfill import reader_process
from leadboost_schema.backfill.documents import Checkpoint, Source, SourceDocument
from leadboost_schema.backfill.line_writer import Block, LineWriter, mapped_blocks
from leadboost_schema.backfill.line_writer import wanted as line_writer_wanted
from leadboost_schema.backfill.loader import RUN_ID, ChunkOutcome, ChunkWriter, last_checkpoint
from leadboost_schema.backfill.mapping import MappedRow, Mapping, load_mapping
from leadboost_schema.backfill.pacing import Pacer, Window
from leadboost_schema.backfill.progress import Progress
from leadboost_schema.backfill.quarantine import Quarantine, read_quarantine
from leadboost_schema.backfill.reading import APPLICATION_NAME, Chunk, TenantLookup, chunks

EXIT_OK, EXIT_VALIDATION_FAILED, EXIT_QUARANTINED = 0, 1, 8


@dataclass
class Options:
    run_id: str | None = None  # default: derived from the source (the same source resumes the same run)
    batch_size: int = 2000  # documents per chunk = per transaction
    quarantine: Path | None = None  # default: ./<run id>.quarantine.jsonl
    mapping: Path | None = None  # default: the shipped mappings.toml
    tenant: str | None = None  # one tenant for every document (overrides the mapping's tenant.from)
    tenant_from: list[str] | None = None  # overrides the mapping's tenant.from
    window: Window | None = None
    rows_per_second: float | None = None
    lock_timeout: str = "5s"
    # "auto": export files of 8 MiB or more are read and mapped in a child process (reader_process.py), the rest
    # in a thread; "thread" or "process" to choose; "sql": JSON Lines mapped by the server (line_writer.py; another
    # source, or a mapping pattern the server cannot read, is read as "auto" reads it)
    reader: str = "auto"
    max_transaction_ms: float = 50.0  # a transaction holds the rows it inserts until COMMIT: keep it this short
    # As a superuser, check the foreign keys once per transaction instead of by a trigger per row (loader.py)
    loader_foreign_keys: bool = True


@dataclass
class Summary:
    run_id: str
    resumed_at: int  # documents already done by earlier attempts of the run
    read: int = 0
    loaded: Counter = field(default_factory=Counter)
    already_present: int = 0
    quarantined: int = 0  # by this attempt
    quarantined_in_run: int = 0  # lines of the run in the quarantine file (every attempt)
    reasons: Counter = field(default_factory=Counter)
    chunks: int = 0
    transactions: int = 0
    left_to_python: int = 0  # SQL path (line_writer.py): documents it left to Python's mapping
    blocks_by_python: int = 0  # SQL path: transactions it handed whole to the Python path
    seconds: float = 0.0
    paused_seconds: float = 0.0
    quarantine_file: str = ""
    validation: list[dict[str, Any]] = field(default_factory=list)
    run_batches_wrong: list[str] = field(default_factory=list)

    @property
    def validation_failed(self) -> bool:
        return bool(self.run_batches_wrong) or any(row["status"] == "FAIL" for row in self.validation)

    @property
    def exit_status(self) -> int:
        """0 everything loaded; 1 validation failed; 8 documents were quarantined (see the quarantine file)."""
        if self.validation_failed:
            return EXIT_VALIDATION_FAILED
        return EXIT_QUARANTINED if self.quarantined_in_run else EXIT_OK


class TransactionSizer:
    """How many rows the next transaction takes, so that it holds the rows it inserts (from its COPY or INSERT to
    its COMMIT: ``ChunkWriter.hold_seconds``) about ``target`` seconds: the dual-writing backend inserting a
    firebase_id the backfill has just inserted waits for the backfill's COMMIT, so that is the longest such
    wait. Starts small, follows the measured time per row (the
    server's load changes it), stays between ``MIN_ROWS`` and the chunk size."""

    MIN_ROWS = 5

    def __init__(self, most: int, target: float) -> None:
        self.most, self.target = most, target
        self.rows = min(most, 200)

    def observe(self, rows: int, seconds: float) -> None:
        if rows < self.rows / 2 and seconds < self.target:
            return  # a short tail of a chunk says little
        fit = int(rows * 0.8 * self.target / max(seconds, 1e-6))
        self.rows = max(min(self.MIN_ROWS, self.most), min(self.most, fit, self.rows * 2))


def transactions(chunk: Chunk, sizer: TransactionSizer) -> Iterator[tuple[list[tuple[int, MappedRow]], Checkpoint]]:
    """A chunk's good rows in transactions of ``sizer.rows``, each with the checkpoint just after its last row
    (the chunk's own for the last one: the bad documents of the chunk are quarantined before the first)."""
    at = 0
    while at < len(chunk.rows):
        rows = chunk.rows[at:at + sizer.rows]
        at += len(rows)
        if at >= len(chunk.rows):
            yield rows, chunk.checkpoint
        else:
            last = rows[-1][0]
            yield rows, Checkpoint(last + 1, chunk.afters[last])


# The reader thread holds the GIL while it parses; the writer wants it back after each round trip to the server
# (5 to 7 a transaction). Python hands it over every switch interval (5 ms by default): a round trip could wait
# that long for it, so the run asks for 0.5 ms (restored after).
SWITCH_INTERVAL_S = 0.0005


@contextlib.contextmanager
def quick_thread_switches() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, SWITCH_INTERVAL_S))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def read_ahead(items: Iterator[Chunk], depth: int = 2) -> Iterator[Chunk]:
    """``items`` produced in a thread, ``depth`` ahead of the consumer (exceptions re-raised in the consumer)."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        handoff.put(item, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(done)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which re-raises it
            handoff.put(error)
        finally:
            getattr(items, "close", lambda: None)()  # a reader process is stopped here, by the thread using it

    thread = threading.Thread(target=produce, name="backfill-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = handoff.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _document_for_quarantine(document: SourceDocument) -> Any:
    return document.raw if document.data is None and document.raw is not None else document.data


@dataclass
class _Attempt:
    """One attempt of a run, shared by its two ways of loading (``python_readers``, ``sql_path``): the writer, the
    quarantine (each bad document once), the summary's counts, the transaction sizer, progress and pacing."""

    dsn: str
    source: Source
    options: Options
    mapping: Mapping
    writer: ChunkWriter
    step: Callable[[str, int], None]
    progress: Progress
    pacer: Pacer
    sizer: TransactionSizer
    summary: Summary
    quarantine: Quarantine
    chunk_no: int
    resume: Checkpoint | None
    written: set[int] = field(default_factory=set)

    def add(self, position: int, document: SourceDocument, table: str | None, reason: str) -> None:
        if position not in self.written:
            self.written.add(position)
            self.quarantine.add(position, document.path, table, reason, _document_for_quarantine(document))
            self.summary.reasons[reason.split(":")[0][:80]] += 1

    def refused(self, result: ChunkOutcome, documents: ReadOnlyMap[int, SourceDocument]) -> None:
        """The rows the database refused, quarantined before the COMMIT (ChunkWriter's ``before_commit``)."""
        for position, table, reason in result.refused:
            self.add(position, documents[position], table, reason)
        self.quarantine.sync()

    def count(self, read: int, outcome: ChunkOutcome, fraction: float | None) -> None:
        summary = self.summary
        summary.chunks += 1
        summary.read += read
        summary.loaded.update(outcome.inserted)
        summary.already_present += outcome.already_present
        summary.quarantined = len(self.written)
        self.progress.update(summary.resumed_at + summary.read, sum(summary.loaded.values()), summary.quarantined,
                             fraction)
        self.pacer.done(sum(outcome.inserted.values()))

    def python_readers(self) -> None:
        """Documents read and mapped by Python (a thread, or the reader process), written by ``ChunkWriter``."""
        options = self.options
        if reader_process.wanted(self.source, options.reader):
            # drained by a thread too, so the child never waits for the writer to want the next chunk
            read = read_ahead(reader_process.read_in_process(
                self.source, self.dsn, (options.mapping, options.tenant, options.tenant_from), self.resume,
                options.batch_size))
        else:
            read = read_ahead(chunks(self.source, self.mapping, self.resume, options.batch_size))
        try:
            for chunk in read:
                self.chunk_no += 1
                for document, table, reason in chunk.rejected:
                    self.add(document.position, document, table, reason)
                self.quarantine.sync()
                self.step("quarantined", self.chunk_no)
                outcome = ChunkOutcome()
                for number, (rows, checkpoint) in enumerate(transactions(chunk, self.sizer)):
                    self.chunk_no += number > 0
                    part = self.writer.write(self.chunk_no, rows, checkpoint,
                                             lambda result, chunk=chunk: self.refused(result, chunk.documents))
                    self.sizer.observe(len(rows), self.writer.hold_seconds)
                    self.summary.transactions += 1
                    outcome.inserted = dict(Counter(outcome.inserted) + Counter(part.inserted))
                    outcome.already_present += part.already_present
                self.count(chunk.read, outcome, chunk.fraction)
        finally:
            read.close()  # stops the reader (a child process at once, not when collected)

    def sql_path(self, conn: psycopg.Connection) -> None:
        """JSON Lines mapped by the server (line_writer.py); a block it cannot take goes ``python_block``'s way."""
        lines = LineWriter(conn, self.summary.run_id, self.mapping, self.writer.loader_foreign_keys, self.step)
        size = max(self.source.path.stat().st_size, 1)
        mapped = mapped_blocks(self.dsn, self.mapping, self.source.path, self.resume, lambda: self.sizer.rows)
        try:
            for mapped_block in mapped:
                block = mapped_block.block
                self.chunk_no += 1
                outcome = lines.write(self.chunk_no, mapped_block, self.add, self.quarantine.sync, self.python_block)
                self.sizer.observe(len(block.lines), lines.hold_seconds)
                self.summary.transactions += 1
                self.count(len(block.lines), outcome, block.afters[-1] / size)
        finally:
            mapped.close()  # stops the mapper and closes its connection
            self.summary.left_to_python, self.summary.blocks_by_python = lines.left_to_python, lines.fallbacks

    def python_block(self, chunk_no: int, block: Block) -> ChunkOutcome:
        """A block the SQL path could not take, mapped and written as the Python readers do."""
        rows = []
        for at in range(len(block.lines)):
            document = block.document(block.first + at)
            mapped = self.mapping.map(document)
            if isinstance(mapped, MappedRow):
                rows.append((document.position, mapped))
            else:
                self.add(document.position, document, mapped.table, mapped.reason)
        self.quarantine.sync()
        self.step("quarantined", chunk_no)
        if not rows:
            return ChunkOutcome()
        documents = {position: block.document(position) for position, _ in rows}
        return self.writer.write(chunk_no, rows, block.checkpoint, lambda result: self.refused(result, documents))


def backfill(dsn: str, source: Source, options: Options, progress: Progress | None = None,
             on_step: Callable[[str, int], None] | None = None, pacer: Pacer | None = None) -> Summary:
    """Load ``source`` into ``migration.*`` (see the module doc); ``on_step(step, chunk)`` is told each step of each
    chunk (quarantined, loaded, before_commit, committed), which the kill/resume tests use."""
    run_id = options.run_id or source.identity.replace(":", "-").replace(",", "-").replace("/", "-")[:100]
    if not RUN_ID.fullmatch(run_id):
        raise ValueError(f"run id {run_id!r}: 1-100 letters, digits, _ or -")
    step = on_step or (lambda name, chunk: None)
    progress = progress or Progress()
    pacer = pacer or Pacer(options.window, options.rows_per_second,
                           on_pause=lambda s: progress.note(f"outside the window: pausing {s / 60:.0f} min"))
    lookup = TenantLookup(dsn)
    with lookup.conn, psycopg.connect(dsn, autocommit=True, application_name=APPLICATION_NAME) as conn, \
            quick_thread_switches():
        conn.execute("SELECT set_config('lock_timeout', %s, false)", (options.lock_timeout,))
        mapping = load_mapping(options.mapping, lookup, options.tenant, options.tenant_from)
        found = last_checkpoint(conn, run_id)
        chunk_no, resume = found if found else (0, None)
        summary = Summary(run_id, resume.done if resume else 0)
        quarantine_path = options.quarantine or Path(f"{run_id}.quarantine.jsonl")
        summary.quarantine_file = str(quarantine_path)
        attempt = _Attempt(dsn, source, options, mapping, ChunkWriter(conn, run_id, mapping.tables, step,
                                                                      options.loader_foreign_keys),
                           step, progress, pacer, TransactionSizer(options.batch_size, options.max_transaction_ms / 1000),
                           summary, Quarantine(quarantine_path, run_id, summary.resumed_at), chunk_no, resume)
        started = time.monotonic()
        pacer.wait_for_window()
        try:
            if line_writer_wanted(source, options.reader, conn, mapping):
                attempt.sql_path(conn)
            else:
                attempt.python_readers()
        finally:
            attempt.quarantine.close()
            progress.finish()
        summary.seconds = time.monotonic() - started
        summary.paused_seconds = pacer.paused_seconds
        summary.quarantined_in_run = sum(1 for e in read_quarantine(quarantine_path) if e.get("run") == run_id)
        # Fresh statistics for the tables the run grew: validate_migrated_data()'s per-batch counts (and the
        # application's plans) would otherwise be planned for the nearly empty tables the run started with.
        conn.execute("ANALYZE migration.batch_control, migration.raw_signals, migration.campaigns,"
                     " migration.audit_logs")
        summary.validation = validate(conn)
        summary.run_batches_wrong = wrong_batches(conn, run_id)
    return summary


def validate(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """``migration.validate_migrated_data()``, one dict per check."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute("SELECT * FROM migration.validate_migrated_data()").fetchall()


def wrong_batches(conn: psycopg.Connection, run_id: str) -> list[str]:
    """The run's batches that are not COMPLETED or whose processed_count differs from their rows."""
    return [b for (b,) in conn.execute(
        "SELECT b.firebase_id FROM migration.batch_control AS b WHERE starts_with(b.firebase_id, %s)"
        " AND (b.status <> 'COMPLETED' OR b.processed_count <> CASE b.collection"
        " WHEN 'raw_signals' THEN (SELECT count(*) FROM migration.raw_signals AS r WHERE r.batch_id = b.id)"
        " WHEN 'campaigns' THEN (SELECT count(*) FROM migration.campaigns AS c WHERE c.batch_id = b.id)"
        " ELSE (SELECT count(*) FROM migration.audit_logs AS a WHERE a.batch_id = b.id) END)"
        " ORDER BY 1", (run_id + ".",))]

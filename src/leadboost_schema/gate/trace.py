"""Executing an upgrade file statement by statement on a filled database and observing each statement from its own
backend, as the gate's lock check needs: the relation locks it holds afterwards (``pg_locks``, this backend, the
seven schemas), the tables and indexes it rewrote (``pg_class.relfilenode`` changed), the rows it read or wrote
(``pg_stat_xact_user_tables``: a validation scan, a rewrite or a backfill shows here), whether ``lock_timeout``
was set, and how long it took. The file runs as its header says: ``transaction: file`` all statements in one
transaction, ``none`` each on its own (wrapped in BEGIN/COMMIT so its locks can be read before they go, unless it
cannot run in a transaction block, like CREATE INDEX CONCURRENTLY: then its locks are not observable)."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from leadboost_schema.databases.sql_statements import sql_statements, statement_start
from leadboost_schema.upgrades.files import Upgrade

SCHEMAS = ("iam", "finanzas", "stock", "gobernanza", "sys", "events", "migration")
# Lock modes from weakest to strongest (PostgreSQL's table-level lock modes).
MODES = ("AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
         "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")
_OUTSIDE_TRANSACTION = re.compile(r"\s*(?:create\s+(?:unique\s+)?index\s+concurrently|drop\s+index\s+concurrently"
                                  r"|reindex\b.*\bconcurrently|vacuum|alter\s+system)\b", re.IGNORECASE | re.DOTALL)
_META_COMMAND = re.compile(r"^\s*\\", re.MULTILINE)
_INDEX_TABLE = re.compile(r"\bon\s+(?:only\s+)?([\w.\"]+)", re.IGNORECASE)

_LOCKS = """
SELECT l.mode, n.nspname || '.' || c.relname, c.relkind::text
  FROM pg_catalog.pg_locks AS l
  JOIN pg_catalog.pg_class AS c ON c.oid = l.relation
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation' AND l.granted
   AND n.nspname = ANY(%s)"""
_FILENODES = """
SELECT n.nspname || '.' || c.relname, c.relkind::text, c.relfilenode::bigint
  FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'i', 'm', 't')"""
_ROWS_TOUCHED = """
SELECT coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0) + n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint
  FROM pg_catalog.pg_stat_xact_user_tables WHERE schemaname = ANY(%s)"""
_ROW_COUNTS = """
SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class AS c
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p')"""


class TraceError(ValueError):
    """An upgrade file the trace cannot execute faithfully (a psql meta-command)."""


@dataclass
class StatementTrace:
    """One statement as executed: ``locks`` maps each relation to the strongest mode the statement took on it (in a
    transaction: only those it added to what earlier statements hold); ``rewritten``: existing tables and indexes
    whose relfilenode changed; ``rows_touched``: rows of the seven schemas it read or wrote; ``observed``: False
    for a statement that ran outside a transaction block (its locks were gone before they could be read)."""

    upgrade: str
    line: int
    sql: str
    seconds: float = 0.0
    lock_timeout: str = "0"
    locks: dict[str, str] = field(default_factory=dict)
    relkinds: dict[str, str] = field(default_factory=dict)
    rewritten: list[str] = field(default_factory=list)
    rows_touched: int = 0
    observed: bool = True
    sqlstate: str = ""
    error: str = ""

    @property
    def where(self) -> str:
        return f"{self.upgrade}:{self.line}"

    @property
    def failed(self) -> bool:
        return bool(self.sqlstate or self.error)

    def summary(self) -> str:
        """The statement's first line, shortened, for tables and messages."""
        first = " ".join(self.sql.split())
        return first if len(first) <= 70 else first[:67] + "..."


@dataclass
class UpgradeTrace:
    """One upgrade file's statements as executed, with the rows each table held before it ran."""

    upgrade: Upgrade
    statements: list[StatementTrace]
    rows_before: dict[str, int]

    @property
    def failed(self) -> StatementTrace | None:
        return next((s for s in self.statements if s.failed), None)


def strongest(modes: list[str]) -> str:
    return max(modes, key=MODES.index)


def _statements(upgrade: Upgrade) -> list[tuple[int, str]]:
    text = upgrade.path.read_text(encoding="utf-8")
    if _META_COMMAND.search(text):
        line = text.count("\n", 0, _META_COMMAND.search(text).start()) + 1
        raise TraceError(f"{upgrade.name}:{line}: a psql meta-command; upgrade files are plain SQL")
    found = []
    for offset, statement in sql_statements(text):
        start = offset + statement_start(statement)
        found.append((text.count("\n", 0, start) + 1, statement[statement_start(statement):].strip()))
    return found


def _row_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Exact rows per table of the seven schemas (read before the upgrade's transaction: counting inside it would
    add an ACCESS SHARE lock on every table to the trace)."""
    names = [row[0] for row in conn.execute(_ROW_COUNTS, (list(SCHEMAS),))]
    counts = {}
    for name in names:
        schema, table = name.split(".", 1)
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        counts[name] = conn.execute(query).fetchone()[0]
    return counts


def _held(conn: psycopg.Connection) -> tuple[dict[str, str], dict[str, str]]:
    modes: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for mode, name, kind in conn.execute(_LOCKS, (list(SCHEMAS),)):
        modes.setdefault(name, []).append(mode)
        kinds[name] = kind
    return {name: strongest(found) for name, found in modes.items()}, kinds


def _filenodes(conn: psycopg.Connection) -> dict[str, int]:
    return {name: node for name, _, node in conn.execute(_FILENODES, (list(SCHEMAS),))}


def _observe(conn: psycopg.Connection, step: StatementTrace, held_before: dict[str, str]) -> dict[str, str]:
    held, kinds = _held(conn)
    step.locks = {name: mode for name, mode in held.items()
                  if MODES.index(mode) > MODES.index(held_before.get(name, MODES[0])) or name not in held_before}
    step.relkinds = {name: kinds[name] for name in step.locks}
    return held


def _infer_locks(step: StatementTrace) -> None:
    """A statement run outside a transaction block (CONCURRENTLY) held SHARE UPDATE EXCLUSIVE on the table it names:
    recorded as inferred, since its locks were released before they could be read."""
    found = _INDEX_TABLE.search(step.sql)
    if found and re.match(r"\s*(?:create|reindex)", step.sql, re.IGNORECASE):
        name = found.group(1).replace('"', "")
        step.locks, step.relkinds = {name: "ShareUpdateExclusiveLock"}, {name: "r"}


def trace_upgrade(conn: psycopg.Connection, upgrade: Upgrade) -> UpgradeTrace:
    """Run ``upgrade`` on ``conn`` (autocommit, the schema owner) and observe every statement; stops at the first
    statement that fails (rolled back as the migration would: the whole file, or that statement alone)."""
    statements = _statements(upgrade)
    trace = UpgradeTrace(upgrade, [], _row_counts(conn))
    in_file_transaction = upgrade.in_transaction
    if in_file_transaction:
        conn.execute("BEGIN")
    held: dict[str, str] = {}
    for line, text in statements:
        step = StatementTrace(upgrade.name, line, text)
        trace.statements.append(step)
        step.observed = in_file_transaction or not _OUTSIDE_TRANSACTION.match(text)
        own_block = step.observed and not in_file_transaction
        if own_block:
            conn.execute("BEGIN")
            held = {}
        step.lock_timeout = conn.execute("SELECT current_setting('lock_timeout')").fetchone()[0]
        nodes = _filenodes(conn)
        touched = conn.execute(_ROWS_TOUCHED, (list(SCHEMAS),)).fetchone()[0] if step.observed else 0
        began = time.monotonic()
        try:
            conn.execute(text)
        except psycopg.Error as error:
            step.seconds = time.monotonic() - began
            step.sqlstate, step.error = error.sqlstate or "", (error.diag.message_primary or str(error)).strip()
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
            return trace
        step.seconds = time.monotonic() - began
        if step.observed:
            held = _observe(conn, step, held)
            step.rows_touched = conn.execute(_ROWS_TOUCHED, (list(SCHEMAS),)).fetchone()[0] - touched
        after = _filenodes(conn)
        if not step.observed:
            _infer_locks(step)
        step.rewritten = sorted(name for name, node in nodes.items() if name in after and after[name] != node)
        if own_block:
            conn.execute("COMMIT")
    if in_file_transaction:
        conn.execute("COMMIT")
    return trace

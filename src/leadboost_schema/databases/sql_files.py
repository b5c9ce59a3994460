"""Applying SQL files with psycopg, as psql would.

Why not run ``psql``: the dsn and docker backends may have no psql binary, and a process per file costs ~30 ms.
The files are plain SQL plus the few psql meta-commands a master migration uses, which we interpret here:
``\\i`` / ``\\ir`` (``\\include`` / ``\\include_relative``) apply another file; ``\\gset`` stores the columns of the
query before it as variables; ``\\set NAME VALUE`` sets one; ``\\if`` / ``\\elif`` / ``\\else`` / ``\\endif`` branch
on a variable (``:name``) or a literal boolean; ``\\quit`` stops; ``:name`` and ``:'name'`` in SQL are replaced by a
defined variable's value (raw or as a quoted literal), as psql does; ``\\echo`` goes to ``echo`` when given.
``ON_ERROR_STOP`` is implied (we always stop at the first error). Any other meta-command is refused with a message,
so a file we cannot apply faithfully fails loudly.

Like psql, each statement is sent on its own (``sql_statements`` splits them), so an error names the file and the
line of the statement that failed. Unlike psql, the statements between two meta-commands form one transaction unless
they manage transactions themselves (BEGIN/COMMIT, or a statement that cannot run in one, e.g. CREATE INDEX
CONCURRENTLY) or one is already open: a file applied alone and failing leaves nothing behind. A chunk with a
``BEGIN ATOMIC`` body is sent whole (its inner semicolons are not statement ends).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from leadboost_schema.databases.sql_statements import sql_statements, statement_start

MASTER_MIGRATION = "000_master_migration.sql"
SEED_DATA = "008_seed_data.sql"
_HARMLESS = {"timing", "pset", "unset", "qecho"}
_INCLUDE = {"i": False, "include": False, "ir": True, "include_relative": True}
_META_LINE = re.compile(r"^\s*\\(\w+)\s*(.*?)\s*$")
_VARIABLE = re.compile(r"(?<![:\w]):(?:'(\w+)'|(\w+))")
_TRUE = {"t", "true", "on", "1", "yes", "y"}
_FALSE = {"f", "false", "off", "0", "no", "n"}
_BEGIN_ATOMIC = re.compile(r"\bbegin\s+atomic\b", re.IGNORECASE)
# Statements that open or end a transaction, or may not run inside one: a chunk holding one runs unwrapped.
_OWN_TRANSACTION = re.compile(r"(?:begin|start|commit|end|rollback|abort|prepare\s+transaction|vacuum"
                              r"|(?:create|drop)\s+(?:database|tablespace)|alter\s+system"
                              r"|(?:create|drop)\s+(?:unique\s+)?index\s+concurrently|reindex\b.*\bconcurrently)\b",
                              re.IGNORECASE | re.DOTALL)


class SchemaFileError(RuntimeError):
    """A schema file is missing, uses a meta-command we do not interpret, or failed in the server. A failure in
    the server starts with ``file:line:`` and keeps ``path`` and ``line`` (the server's error is ``__cause__``)."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path, self.line = path, line


def sql_files_in(entries: Sequence[Path]) -> list[Path]:
    """The files ``entries`` name, in order: a file as is, a folder as its top-level ``*.sql`` files sorted by name
    (subfolders are left for ``\\ir`` includes)."""
    files: list[Path] = []
    for entry in entries:
        if entry.is_dir():
            files.extend(sorted(p for p in entry.glob("*.sql") if p.is_file()))
        elif entry.is_file():
            files.append(entry)
        else:
            raise SchemaFileError(f"extra SQL {entry} does not exist")
    return files


def apply_sql_files(conn: psycopg.Connection, entries: Sequence[Path]) -> None:
    """Apply every file of ``entries`` (files or folders, see ``sql_files_in``) in order."""
    for path in sql_files_in(entries):
        apply_sql_file(conn, path)


@dataclass
class _Run:
    """The state psql keeps while it reads files: variables, the \\if stack, whether \\quit was seen."""

    variables: dict[str, str] = field(default_factory=dict)
    branches: list[list[bool]] = field(default_factory=list)  # per \if: [active now, some branch taken]
    quit: bool = False
    echo: Callable[[str], None] | None = None

    @property
    def active(self) -> bool:
        return all(branch[0] for branch in self.branches)


def apply_sql_file(conn: psycopg.Connection, path: Path, echo: Callable[[str], None] | None = None,
                   variables: dict[str, str] | None = None) -> None:
    """Apply one SQL file as psql would with ON_ERROR_STOP, following \\i/\\ir includes and \\if branches.
    ``echo`` receives each ``\\echo`` line; ``variables`` are set before the file runs (``psql -v``)."""
    run = _Run(variables=dict(variables or {}), echo=echo)
    _apply(conn, path, run, 0)
    if run.branches and not run.quit:
        raise SchemaFileError(f"{path}: \\if without \\endif")


def _apply(conn: psycopg.Connection, path: Path, run: _Run, depth: int) -> None:
    if not path.is_file():
        raise SchemaFileError(f"schema file {path} does not exist")
    if depth > 16:
        raise SchemaFileError(f"{path}: includes nested too deep (a loop?)")
    chunk: list[str] = []
    first_line = 1
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(keepends=True), start=1):
        meta = _META_LINE.match(line)
        if not meta:
            if run.active:
                chunk.append(line)
            continue
        command, argument = meta.group(1), meta.group(2)
        if command == "gset":
            if run.active:
                _gset(conn, path, "".join(chunk), first_line, run, argument)
        else:
            if run.active:
                _execute_chunk(conn, path, "".join(chunk), first_line, run)
            _meta(conn, path, number, command, argument, run, depth)
        chunk, first_line = [], number + 1
        if run.quit:
            return
    if run.active:
        _execute_chunk(conn, path, "".join(chunk), first_line, run)


def _meta(conn: psycopg.Connection, path: Path, number: int, command: str, argument: str, run: _Run,
          depth: int) -> None:
    if command in {"if", "elif", "else", "endif"}:
        _branch(path, number, command, argument, run)
        return
    if not run.active or command in _HARMLESS:
        return
    if command in _INCLUDE:
        base = path.parent if _INCLUDE[command] else Path.cwd()
        _apply(conn, base / argument.strip("'\""), run, depth + 1)
    elif command == "set":
        name, *values = _words(argument, run)
        run.variables[name] = "".join(values)
    elif command == "echo":
        if run.echo:
            run.echo(" ".join(_words(argument, run)))
    elif command in {"q", "quit"}:
        run.quit = True
    else:
        raise SchemaFileError(f"{path}:{number}: psql meta-command \\{command} is not supported by "
                              "leadboost-schema's SQL applier (only \\i, \\ir, \\set, \\gset, \\if, \\echo, \\quit)")


def _branch(path: Path, number: int, command: str, argument: str, run: _Run) -> None:
    if command == "if":
        outer = run.active
        value = outer and _truth(path, number, argument, run)
        run.branches.append([value, value or not outer])
        return
    if not run.branches:
        raise SchemaFileError(f"{path}:{number}: \\{command} without \\if")
    branch = run.branches[-1]
    if command == "endif":
        run.branches.pop()
    elif command == "else":
        branch[0], branch[1] = not branch[1], True
    else:  # elif
        value = not branch[1] and _truth(path, number, argument, run)
        branch[0], branch[1] = value, branch[1] or value


def _truth(path: Path, number: int, argument: str, run: _Run) -> bool:
    text = _interpolate(argument, run, quote=False).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SchemaFileError(f"{path}:{number}: \\if needs a boolean, got {text!r}")


def _interpolate(sql: str, run: _Run, quote: bool = True) -> str:
    """psql's variable substitution, for defined variables only (``::`` casts and ``:=`` are left alone)."""
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in run.variables:
            return match.group(0)
        value = run.variables[name]
        return "'" + value.replace("'", "''") + "'" if match.group(1) and quote else value
    return _VARIABLE.sub(replace, sql) if run.variables else sql


def _words(argument: str, run: _Run) -> list[str]:
    """A meta-command's arguments as psql reads them: 'quoted text' ('' is a quote) or words, :variables replaced."""
    words = []
    for quoted, bare in re.findall(r"'((?:[^']|'')*)'|(\S+)", argument):
        words.append(quoted.replace("''", "'") if quoted or not bare else _interpolate(bare, run, quote=False))
    return words


def _gset(conn: psycopg.Connection, path: Path, sql: str, first_line: int, run: _Run, prefix: str) -> None:
    cursor = _execute_chunk(conn, path, sql, first_line, run)  # the last statement's result is the query's
    row = cursor.fetchone() if cursor is not None and cursor.description else None
    if row is None:
        raise SchemaFileError(f"{path}:{first_line}: \\gset needs a query returning one row", path, first_line)
    for column, value in zip(cursor.description, row, strict=True):
        run.variables[prefix + column.name] = ("t" if value else "f") if isinstance(value, bool) else str(value)


def _execute_chunk(conn: psycopg.Connection, path: Path, sql: str, first_line: int,
                   run: _Run) -> psycopg.Cursor | None:
    """Run the SQL between two meta-commands statement by statement; return the last statement's cursor. When the
    chunk opens no transaction of its own and the connection is idle in autocommit, the statements run in one
    transaction: a failure leaves nothing of the chunk, not even its SETs."""
    sql = _interpolate(sql, run)
    pieces = [(0, sql)] if _BEGIN_ATOMIC.search(sql) else list(sql_statements(sql))
    if not pieces:
        return None
    starts = [(offset + statement_start(statement), statement) for offset, statement in pieces]
    wrap = (len(pieces) > 1 and conn.autocommit
            and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            and not any(_OWN_TRANSACTION.match(statement, start - offset)
                        for (offset, statement), (start, _) in zip(pieces, starts, strict=True)))
    if wrap:
        conn.execute("BEGIN")
    cursor = None
    try:
        for start, statement in starts:
            cursor = _execute(conn, path, statement, first_line + sql.count("\n", 0, start))
    except BaseException:
        if wrap or (conn.autocommit and conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR):
            conn.execute("ROLLBACK")  # ours, or a BEGIN of the file's: end it, as psql's exit on error would
        raise
    if wrap:
        conn.execute("COMMIT")
    return cursor


def _execute(conn: psycopg.Connection, path: Path, statement: str, line: int) -> psycopg.Cursor:
    try:
        return conn.execute(statement.encode("utf-8"))  # bytes: psycopg sends it as is, no %-placeholder parsing
    except psycopg.Error as error:
        diag = error.diag
        lead = statement_start(statement)
        if diag.statement_position:  # the server points at a character: report that character's line
            line += statement.count("\n", lead, int(diag.statement_position) - 1)
        raise SchemaFileError(f"{path}:{line}: [{diag.sqlstate}] {diag.message_primary}"
                              + (f" ({' '.join(diag.context.split())})" if diag.context else ""),
                              path, line) from error

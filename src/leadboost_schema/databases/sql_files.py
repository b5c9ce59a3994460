"""Applying SQL files with psycopg, as psql would.

Why not run ``psql``: the dsn and docker backends may have no psql binary, and a process per file costs ~30 ms.
The files are plain SQL plus the few psql meta-commands a master migration uses, which we interpret here:
``\\i`` / ``\\ir`` (``\\include`` / ``\\include_relative``) apply another file, ``\\set ON_ERROR_STOP``, ``\\echo``,
``\\qecho`` and ``\\timing`` are no-ops (we always stop at the first error). Any other meta-command is refused
with a message, so a file we cannot apply faithfully fails loudly.

Like psql, each statement is sent on its own (``sql_statements`` splits at top-level semicolons, minding quotes,
dollar quotes, comments and parentheses), so an error names the file and the line of the statement that failed.
Unlike psql, the statements between two meta-commands form one transaction unless they manage transactions
themselves (BEGIN/COMMIT, or a statement that cannot run in one, e.g. CREATE INDEX CONCURRENTLY): a file applied
alone and failing leaves nothing behind. A chunk with a ``BEGIN ATOMIC`` body is sent whole (its inner semicolons
are not statement ends); its errors name the line the server points at, or the chunk's first line.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg

MASTER_MIGRATION = "000_master_migration.sql"
SEED_DATA = "008_seed_data.sql"
_HARMLESS = {"set", "echo", "qecho", "timing", "pset", "unset"}
_INCLUDE = {"i": False, "include": False, "ir": True, "include_relative": True}
_META_LINE = re.compile(r"^\s*\\(\w+)\s*(.*?)\s*$")
_TOKEN = re.compile(r"--[^\n]*|/\*|'|\"|\$[A-Za-z_\x80-\uffff][\w\x80-\uffff]*\$|\$\$|[();]|(?<![\w$])[Ee]'")
_BEGIN_ATOMIC = re.compile(r"\bbegin\s+atomic\b", re.IGNORECASE)
# Statements that open or end a transaction, or may not run inside one: a chunk holding one runs unwrapped.
_OWN_TRANSACTION = re.compile(r"(?:begin|start|commit|end|rollback|abort|prepare\s+transaction|vacuum"
                              r"|(?:create|drop)\s+(?:database|tablespace)|alter\s+system"
                              r"|(?:create|drop)\s+(?:unique\s+)?index\s+concurrently|reindex\b.*\bconcurrently)\b",
                              re.IGNORECASE | re.DOTALL)
_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.DOTALL)


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


def apply_sql_file(conn: psycopg.Connection, path: Path, _depth: int = 0) -> None:
    """Apply one SQL file as psql would with ON_ERROR_STOP, following \\i/\\ir includes."""
    if not path.is_file():
        raise SchemaFileError(f"schema file {path} does not exist")
    if _depth > 16:
        raise SchemaFileError(f"{path}: includes nested too deep (a loop?)")
    chunk: list[str] = []
    first_line = 1
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(keepends=True), start=1):
        meta = _META_LINE.match(line)
        if not meta:
            chunk.append(line)
            continue
        _execute_chunk(conn, path, "".join(chunk), first_line)
        chunk, first_line = [], number + 1
        command, argument = meta.group(1), meta.group(2).strip("'\"")
        if command in _INCLUDE:
            base = path.parent if _INCLUDE[command] else Path.cwd()
            apply_sql_file(conn, (base / argument), _depth + 1)
        elif command not in _HARMLESS:
            raise SchemaFileError(f"{path}:{number}: psql meta-command \\{command} is not supported by "
                                  "leadboost-schema's SQL applier (only \\i, \\ir, \\set, \\echo)")
    _execute_chunk(conn, path, "".join(chunk), first_line)


def sql_statements(text: str) -> Iterator[tuple[int, str]]:
    """(offset in ``text``, statement) for each statement, split at semicolons outside quotes, dollar quotes,
    comments and parentheses, as psql's lexer does. Whitespace/comment-only pieces are skipped."""
    start = position = depth = 0
    while True:
        found = _TOKEN.search(text, position)
        if found is None:
            break
        token, position = found.group(), found.end()
        if token.startswith("--"):
            continue
        if token == "/*":
            position = _comment_end(text, position)
        elif token in ("'", '"', "E'", "e'"):
            position = _quote_end(text, position, token[-1], backslashes=len(token) == 2)
        elif token.startswith("$"):
            end = text.find(token, position)
            position = len(text) if end < 0 else end + len(token)
        elif token == "(":
            depth += 1
        elif token == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:  # a semicolon ending a statement
            if _has_code(text[start:position]):
                yield start, text[start:position]
            start = position
    if _has_code(text[start:]):
        yield start, text[start:]


def _comment_end(text: str, position: int) -> int:
    nesting = 1
    while nesting and position < len(text):
        opener, closer = text.find("/*", position), text.find("*/", position)
        if closer < 0:
            return len(text)
        if 0 <= opener < closer:
            nesting, position = nesting + 1, opener + 2
        else:
            nesting, position = nesting - 1, closer + 2
    return position


def _quote_end(text: str, position: int, quote: str, backslashes: bool) -> int:
    while position < len(text):
        char = text[position]
        if backslashes and char == "\\":
            position += 2
            continue
        position += 1
        if char == quote:
            if text.startswith(quote, position):  # a doubled quote stands for itself
                position += 1
                continue
            return position
    return position


def _has_code(piece: str) -> bool:
    return bool(re.sub(r"--[^\n]*|/\*.*?\*/|[\s;]", "", piece, flags=re.DOTALL))


def _execute_chunk(conn: psycopg.Connection, path: Path, sql: str, first_line: int) -> None:
    """Run the SQL between two meta-commands statement by statement. When the chunk opens no transaction of its
    own and the connection is idle in autocommit, the statements run in one transaction, as the one multi-statement
    query this runner used to send did: a failure leaves nothing of the chunk, not even its SETs."""
    if not sql.strip():
        return
    pieces = [(0, sql)] if _BEGIN_ATOMIC.search(sql) else list(sql_statements(sql))
    starts = [(offset + _LEADING_NOISE.match(statement).end(), statement) for offset, statement in pieces]
    wrap = (len(pieces) > 1 and conn.autocommit
            and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            and not any(_OWN_TRANSACTION.match(statement, start - offset)
                        for (offset, statement), (start, _) in zip(pieces, starts, strict=True)))
    if wrap:
        conn.execute("BEGIN")
    try:
        for start, statement in starts:
            _execute(conn, path, statement, first_line + sql.count("\n", 0, start))
    except BaseException:
        if wrap or (conn.autocommit and conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR):
            conn.execute("ROLLBACK")  # ours, or a BEGIN of the file's: end it, as psql's exit on error would
        raise
    if wrap:
        conn.execute("COMMIT")


def _execute(conn: psycopg.Connection, path: Path, statement: str, line: int) -> None:
    try:
        conn.execute(statement.encode("utf-8"))  # bytes: psycopg sends it as is, no %-placeholder parsing
    except psycopg.Error as error:
        diag = error.diag
        lead = _LEADING_NOISE.match(statement).end()
        if diag.statement_position:  # the server points at a character: report that character's line
            line += statement.count("\n", lead, int(diag.statement_position) - 1)
        raise SchemaFileError(f"{path}:{line}: [{diag.sqlstate}] {diag.message_primary}"
                              + (f" ({' '.join(diag.context.split())})" if diag.context else ""),
                              path, line) from error

"""Applying the schema folder's SQL files with psycopg, as psql would.

Why not run ``psql``: the dsn and docker backends may have no psql binary, and a process per file costs ~30 ms.
The files are plain SQL plus the few psql meta-commands a master migration uses, which we interpret here:
``\\i`` / ``\\ir`` (``\\include`` / ``\\include_relative``) apply another file; ``\\gset`` stores the columns of the
query before it as variables; ``\\set NAME VALUE`` sets one; ``\\if`` / ``\\elif`` / ``\\else`` / ``\\endif`` branch
on a variable (``:name``) or a literal boolean; ``\\quit`` stops; ``:name`` and ``:'name'`` in SQL are replaced by a
defined variable's value (raw or as a quoted literal), as psql does; ``\\echo`` goes to ``echo`` when given.
``ON_ERROR_STOP`` is implied (we always stop at the first error). Any other meta-command is refused with a message,
so a file we cannot apply faithfully fails loudly. The SQL between meta-commands is sent as one ``execute``
(simple query protocol: many statements, DO blocks and $$ bodies all work).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

MASTER_MIGRATION = "000_master_migration.sql"
SEED_DATA = "008_seed_data.sql"
_HARMLESS = {"timing", "pset", "unset", "qecho"}
_INCLUDE = {"i": False, "include": False, "ir": True, "include_relative": True}
_META_LINE = re.compile(r"^\s*\\(\w+)\s*(.*?)\s*$")
_VARIABLE = re.compile(r"(?<![:\w]):(?:'(\w+)'|(\w+))")
_TRUE = {"t", "true", "on", "1", "yes", "y"}
_FALSE = {"f", "false", "off", "0", "no", "n"}


class SchemaFileError(RuntimeError):
    """A schema file is missing, uses a meta-command we do not interpret, or failed in the server."""


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
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(keepends=True), start=1):
        meta = _META_LINE.match(line)
        if not meta:
            if run.active:
                chunk.append(line)
            continue
        command, argument = meta.group(1), meta.group(2)
        if command == "gset":
            if run.active:
                _gset(conn, path, "".join(chunk), run, argument)
            chunk = []
            continue
        if run.active:
            _execute(conn, path, "".join(chunk), run)
        chunk = []
        _meta(conn, path, number, command, argument, run, depth)
        if run.quit:
            return
    if run.active:
        _execute(conn, path, "".join(chunk), run)


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


def _gset(conn: psycopg.Connection, path: Path, sql: str, run: _Run, prefix: str) -> None:
    cursor = _execute(conn, path, sql, run)
    while cursor is not None and cursor.nextset():  # statements before the query: its result is the last one
        pass
    row = cursor.fetchone() if cursor is not None and cursor.description else None
    if row is None:
        raise SchemaFileError(f"{path.name}: \\gset needs a query returning one row")
    for column, value in zip(cursor.description, row, strict=True):
        run.variables[prefix + column.name] = ("t" if value else "f") if isinstance(value, bool) else str(value)


def _execute(conn: psycopg.Connection, path: Path, sql: str, run: _Run) -> psycopg.Cursor | None:
    if not sql.strip():
        return None
    try:
        # bytes: psycopg sends it as is, no %-placeholder parsing
        return conn.execute(_interpolate(sql, run).encode("utf-8"))
    except psycopg.Error as error:
        diag = error.diag
        raise SchemaFileError(f"{path.name} failed: [{diag.sqlstate}] {diag.message_primary}"
                              + (f" ({diag.context.strip()})" if diag.context else "")) from error

"""Applying the schema folder's SQL files with psycopg, as psql would.

Why not run ``psql``: the dsn and docker backends may have no psql binary, and a process per file costs ~30 ms.
The files are plain SQL plus the few psql meta-commands a master migration uses, which we interpret here:
``\\i`` / ``\\ir`` (``\\include`` / ``\\include_relative``) apply another file, ``\\set ON_ERROR_STOP``, ``\\echo``,
``\\qecho`` and ``\\timing`` are no-ops (we always stop at the first error). Any other meta-command is refused
with a message, so a file we cannot apply faithfully fails loudly. The SQL between meta-commands is sent as one
``execute`` (simple query protocol: many statements, DO blocks and $$ bodies all work).
"""
from __future__ import annotations

import re
from pathlib import Path

import psycopg

MASTER_MIGRATION = "000_master_migration.sql"
SEED_DATA = "008_seed_data.sql"
_HARMLESS = {"set", "echo", "qecho", "timing", "pset", "unset"}
_INCLUDE = {"i": False, "include": False, "ir": True, "include_relative": True}
_META_LINE = re.compile(r"^\s*\\(\w+)\s*(.*?)\s*$")


class SchemaFileError(RuntimeError):
    """A schema file is missing, uses a meta-command we do not interpret, or failed in the server."""


def apply_sql_file(conn: psycopg.Connection, path: Path, _depth: int = 0) -> None:
    """Apply one SQL file as psql would with ON_ERROR_STOP, following \\i/\\ir includes."""
    if not path.is_file():
        raise SchemaFileError(f"schema file {path} does not exist")
    if _depth > 16:
        raise SchemaFileError(f"{path}: includes nested too deep (a loop?)")
    chunk: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(keepends=True), start=1):
        meta = _META_LINE.match(line)
        if not meta:
            chunk.append(line)
            continue
        _execute(conn, path, "".join(chunk))
        chunk = []
        command, argument = meta.group(1), meta.group(2).strip("'\"")
        if command in _INCLUDE:
            base = path.parent if _INCLUDE[command] else Path.cwd()
            apply_sql_file(conn, (base / argument), _depth + 1)
        elif command not in _HARMLESS:
            raise SchemaFileError(f"{path}:{number}: psql meta-command \\{command} is not supported by "
                                  "leadboost-schema's SQL applier (only \\i, \\ir, \\set, \\echo)")
    _execute(conn, path, "".join(chunk))


def _execute(conn: psycopg.Connection, path: Path, sql: str) -> None:
    if not sql.strip():
        return
    try:
        conn.execute(sql.encode("utf-8"))  # bytes: psycopg sends it as is, no %-placeholder parsing
    except psycopg.Error as error:
        diag = error.diag
        raise SchemaFileError(f"{path.name} failed: [{diag.sqlstate}] {diag.message_primary}"
                              + (f" ({diag.context.strip()})" if diag.context else "")) from error

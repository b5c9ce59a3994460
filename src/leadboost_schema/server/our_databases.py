"""The databases a run makes on a server, by name: ``lb_*`` test databases and ``lb_tpl_*`` templates keyed by a
hash of the schema folder and any extra SQL; listing and dropping them. The server room owns this (not
``databases/``) because a backend that keeps a cluster for the next run must drop what the run left and keep only
current templates."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import psycopg
from psycopg import sql

from leadboost_schema.server.running import Server

# Bumped when the way templates are built changes, so cached templates of the old way are not reused.
_TEMPLATE_FORMAT = b"leadboost-template-format-2\0"
TEMPLATE_PREFIX = "lb_tpl_"
OUR_PREFIX = "lb_"
_INCLUDE_LINE = re.compile(r"^\s*\\(i|include|ir|include_relative)\s+(.*?)\s*$")


def template_names(schema: str) -> tuple[str, str]:
    """(migrated, migrated + seeded) template names for a schema hash."""
    return f"{TEMPLATE_PREFIX}{schema}", f"{TEMPLATE_PREFIX}seed_{schema}"


def schema_hash(schema_dir: Path) -> str:
    """A short hash of every file name and content under ``schema_dir``: the cache key of migrated templates."""
    return template_key(schema_dir)


def template_key(schema_dir: Path, extra_sql: Sequence[Path] = (), extra_seed_sql: Sequence[Path] = ()) -> str:
    """The cache key of migrated templates: every file under ``schema_dir`` (the package's schema, or the one
    named), then each extra SQL entry in order (a folder: every file under it; a file: it and the files it
    includes with ``\\i``/``\\ir``). Changing any of them, or their order, names a new template."""
    digest = hashlib.sha256(_TEMPLATE_FORMAT)
    _hash_folder(digest, schema_dir)
    for label, entries in ((b"extra\0", extra_sql), (b"extra-seed\0", extra_seed_sql)):
        for entry in entries:  # names within each entry, not absolute paths: the same SQL elsewhere, same key
            digest.update(label)
            if entry.is_dir():
                _hash_folder(digest, entry)
            else:
                for path in _with_includes(entry, set()):
                    digest.update(path.name.encode() + b"\0" + _read(path) + b"\0")
    return digest.hexdigest()[:12]


def _hash_folder(digest: hashlib._Hash, folder: Path) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")


def _read(path: Path) -> bytes:
    return path.read_bytes() if path.is_file() else b"<missing>"


def _with_includes(path: Path, seen: set[Path]) -> list[Path]:
    """``path`` and, depth first, the files its psql include lines name (as databases/sql_files applies them)."""
    if path in seen or not path.is_file():
        return [path]
    seen.add(path)
    found = [path]
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        include = _INCLUDE_LINE.match(line)
        if include:
            base = path.parent if include.group(1) in ("ir", "include_relative") else Path.cwd()
            found += _with_includes(base / include.group(2).strip("'\""), seen)
    return found


def database_exists(admin: psycopg.Connection, name: str) -> bool:
    return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def create_database(admin: psycopg.Connection, name: str, template: str | None, version: int) -> None:
    """CREATE DATABASE, cloned with FILE_COPY on 15+ (a file copy plus checkpoint: ~3x faster than WAL_LOG
    for a small template)."""
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        if version >= 150000:
            statement += sql.SQL(" STRATEGY FILE_COPY")
    admin.execute(statement)


def drop_database(admin: psycopg.Connection, name: str) -> None:
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def drop_test_databases(server: Server, keep: set[str]) -> None:
    """Drop every database of ours (``lb_*``) except ``keep``: before a cluster is kept in the cache."""
    with psycopg.connect(server.admin_dsn, autocommit=True) as admin:
        names = [row[0] for row in admin.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (OUR_PREFIX,))]
        for name in names:
            if name not in keep:
                admin.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(sql.Identifier(name)))
                drop_database(admin, name)

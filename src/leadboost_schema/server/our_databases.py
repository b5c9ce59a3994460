"""The databases a run makes on a server, by name: ``lb_*`` test databases and ``lb_tpl_*`` templates keyed by a
hash of the schema folder; listing and dropping them. The server room owns this (not ``databases/``) because a
backend that keeps a cluster for the next run must drop what the run left and keep only current templates."""
from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
from psycopg import sql

from leadboost_schema.server.running import Server

# Bumped when the way templates are built changes, so cached templates of the old way are not reused.
_TEMPLATE_FORMAT = b"leadboost-template-format-2\0"
TEMPLATE_PREFIX = "lb_tpl_"
OUR_PREFIX = "lb_"


def template_names(schema: str) -> tuple[str, str]:
    """(migrated, migrated + seeded) template names for a schema hash."""
    return f"{TEMPLATE_PREFIX}{schema}", f"{TEMPLATE_PREFIX}seed_{schema}"



def schema_hash(schema_dir: Path) -> str:
    """A short hash of every file name and content under ``schema_dir``: the cache key of migrated templates."""
    digest = hashlib.sha256(_TEMPLATE_FORMAT)
    for path in sorted(p for p in schema_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(schema_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]



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

"""Fixtures of the contract suite: one catalog snapshot per worker, empty databases, application-role sessions."""
from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from leadboost_schema.catalog.snapshot import snapshot
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.paths import schema_dir
from leadboost_schema.server import Server


@pytest.fixture(scope="session")
def catalog_snapshot(leadboost_server: Server, leadboost_template: str) -> dict[str, Any]:
    """The catalog snapshot of a freshly migrated database (000 applied, no seed)."""
    with fresh_database(leadboost_server, leadboost_template) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        return snapshot(conn)


@pytest.fixture(scope="session")
def schema_folder() -> Path:
    """The schema/ folder the templates are migrated from."""
    return schema_dir()


@pytest.fixture
def empty_dsn(leadboost_server: Server) -> Iterator[str]:
    """A new database with nothing of ours in it (CREATE DATABASE from template1), dropped after the test."""
    with fresh_database(leadboost_server, None) as dsn:
        yield dsn


@pytest.fixture
def as_app() -> Callable[..., contextlib.AbstractContextManager[psycopg.Connection]]:
    """``with as_app(conn, tenant_id):`` runs the block as leadboost_app bound to ``tenant_id`` (None: unbound),
    and switches back to the owner afterwards, whatever happened."""

    @contextlib.contextmanager
    def bound(conn: psycopg.Connection, tenant_id: uuid.UUID | None) -> Iterator[psycopg.Connection]:
        conn.execute("SET ROLE leadboost_app")
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant_id) if tenant_id else "",))
        try:
            yield conn
        finally:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.rollback()
            conn.execute("RESET ROLE")
            conn.execute("RESET app.tenant_id")

    return bound

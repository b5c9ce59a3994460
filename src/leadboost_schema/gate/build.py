"""The databases a gate run works on, as templates of one server so each check clones its own in a moment:
base built from base's files (master then seed, as ``psql -f`` runs them) and filled with a few thousand rows
through the public functions of every domain; head installed fresh from head's files."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from leadboost_schema.catalog.snapshot import snapshot
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.databases.templates import ensure_template
from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.server import Server
from leadboost_schema.server.our_databases import create_database, database_exists, drop_database
from leadboost_schema.testing.data_fingerprint import Fingerprint, data_fingerprint
from leadboost_schema.testing.release_data import fill_release_data

# Four tenants of 200 rounds: ~7,000 rows over every domain (enough that a rewrite or a scan shows in the lock
# trace and under load, small enough that the base builds in seconds).
TENANTS = 4
ROUNDS = 200


@dataclass(frozen=True)
class Databases:
    """Template names on ``server`` and what the base held when it was filled (the reference every check of
    "nothing lost" compares with)."""

    server: Server
    base: str  # base's files, seeded and filled
    head: str  # head's files, fresh (no data)
    base_catalog: dict[str, Any]
    base_rows: Fingerprint

    @contextlib.contextmanager
    def clone(self, which: str = "base") -> Iterator[str]:
        """``with dbs.clone("base") as dsn:`` a throw-away copy of the filled base (or of fresh ``"head"``)."""
        with fresh_database(self.server, self.base if which == "base" else self.head) as dsn:
            yield dsn


def build(server: Server, plan: GatePlan, tenants: int = TENANTS, rounds: int = ROUNDS) -> Databases:
    """Both templates, the filled base built once per server (named after base's seeded template and the fill)."""
    seeded = ensure_template(server, plan.base_dir, seeded=True)
    filled = f"{seeded}_f{tenants}x{rounds}"[:63]
    with psycopg.connect(server.admin_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(hashtext(%s))", (filled,))  # released when admin closes
        if not database_exists(admin, filled):
            building = filled[:54] + "_building"
            drop_database(admin, building)
            create_database(admin, building, seeded, server.version)
            with psycopg.connect(server.dsn(building), autocommit=True) as conn:
                fill_release_data(conn, tenants=tenants, rounds=rounds)
                conn.execute("VACUUM ANALYZE")
            admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building),
                                                                         sql.Identifier(filled)))
            admin.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(
                sql.Identifier(filled)))
    head = ensure_template(server, plan.head_dir)
    with fresh_database(server, filled) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        catalog, rows = snapshot(conn), data_fingerprint(conn)
    return Databases(server, filled, head, catalog, rows)

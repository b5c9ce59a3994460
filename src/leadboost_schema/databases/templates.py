"""Migrated template databases, built once per schema hash and shared by every worker of a run (and later runs)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import psycopg
from psycopg import sql

from leadboost_schema.databases.sql_files import (
    MASTER_MIGRATION,
    SEED_DATA,
    SchemaFileError,
    apply_sql_file,
    apply_sql_files,
)
from leadboost_schema.server import Server
from leadboost_schema.server.our_databases import (
    create_database,
    database_exists,
    drop_database,
    template_key,
    template_names,
)


def ensure_template(server: Server, schema_dir: Path, seeded: bool = False, *, extra_sql: Sequence[Path] = (),
                    extra_seed_sql: Sequence[Path] = ()) -> str:
    """Name of the template migrated with ``000_master_migration.sql`` then ``extra_sql`` (a service's own
    files or folders, in order), and for ``seeded`` also ``008_seed_data.sql`` then ``extra_seed_sql``; built
    first if this server lacks it. Its name hashes all of them (``template_key``). Concurrent callers (xdist
    workers) wait on an advisory lock, so exactly one builds it."""
    if not (schema_dir / MASTER_MIGRATION).is_file():
        raise SchemaFileError(f"no {MASTER_MIGRATION} in {schema_dir}: point --leadboost-schema-dir "
                              "(ini leadboost_schema_dir, env LEADBOOST_SCHEMA_DIR) at the schema folder")
    plain, seed = template_names(template_key(schema_dir, extra_sql, extra_seed_sql))
    if seeded:
        ensure_template(server, schema_dir, extra_sql=extra_sql, extra_seed_sql=extra_seed_sql)
    name = seed if seeded else plain
    with psycopg.connect(server.admin_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(hashtext(%s))", (name,))  # released when admin closes
        if database_exists(admin, name):
            return name
        building = name + "_building"
        drop_database(admin, building)
        create_database(admin, building, template=plain if seeded else None, version=server.version)
        with psycopg.connect(server.dsn(building), autocommit=True) as conn:
            apply_sql_file(conn, schema_dir / (SEED_DATA if seeded else MASTER_MIGRATION))
            apply_sql_files(conn, extra_seed_sql if seeded else extra_sql)
        admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(building),
                                                                     sql.Identifier(name)))
        # One connection after the DDL writes the relcache init file into the template, and every clone copies
        # it: a test's first connection to its clone then takes ~6 ms instead of ~12 ms.
        psycopg.connect(server.dsn(name)).close()
        # No connections allowed: a clone never fails with "source database is being accessed by other users".
        admin.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(
            sql.Identifier(name)))
    return name

"""Data fingerprint: the row count and a checksum of every table in the schema's schemas, to prove nothing changed.

``data_fingerprint(conn)`` reads every ordinary or partitioned table of the seven schemas (found in the catalog at
each call, so a new table is covered without edits) and returns ``{"schema.table": (rows, md5)}``, where the md5
is taken over the rows' text forms sorted bytewise. Two fingerprints are equal exactly when no table gained, lost
or changed a row. ``tenant_id=`` restricts it to one tenant's rows (``iam.tenants`` by ``id``, the other tables by
``tenant_id``; a table with neither column is read whole).

Run it as the owner (or a superuser): a role subject to row-level security would see a filtered, meaningless
fingerprint, so that is refused (``row_security_active`` is checked in the same query). Inside a caller's
transaction it sees that transaction's own changes. For many reads of the same tables, build the query once with
``fingerprint_query`` and pass it as ``query=`` (one round trip per read).

``kept_rows(conn, columns)`` is the same count and md5 over chosen columns only (``table_columns`` of an older
release): what an upgrade must keep, so that a column it adds does not count as a changed row.
"""
from __future__ import annotations

import uuid

import psycopg
from psycopg import sql

from leadboost_schema.catalog.snapshot import SCHEMAS

Fingerprint = dict[str, tuple[int, str]]

_TABLES = """
SELECT n.nspname, c.relname,
       EXISTS (SELECT 1 FROM pg_attribute AS a
                WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND a.attnum > 0 AND NOT a.attisdropped)
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (%s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY 1, 2
"""


def fingerprinted_tables(conn: psycopg.Connection, schemas: tuple[str, ...] = SCHEMAS) -> list[tuple[str, str, bool]]:
    """``(schema, table, has a tenant_id column)`` of every table a fingerprint covers, in name order."""
    return [tuple(row) for row in conn.execute(_TABLES, (list(schemas),))]


class RowSecurityActive(RuntimeError):
    """The fingerprint was read by a role whose view of the tables row-level security filters."""


def _table_query(schema: str, table: str, has_tenant: bool, tenant_id: uuid.UUID | None) -> sql.Composed:
    where = sql.SQL("")
    if tenant_id is not None and (has_tenant or (schema, table) == ("iam", "tenants")):
        column = "tenant_id" if has_tenant else "id"
        where = sql.SQL(" WHERE t.{} = {}").format(sql.Identifier(column), sql.Literal(str(tenant_id)))
    return sql.SQL(
        "SELECT {name}, count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text COLLATE \"C\"), '')),"
        " row_security_active({regclass}) FROM {table} AS t{where}").format(
        name=sql.Literal(f"{schema}.{table}"), regclass=sql.Literal(f"{schema}.{table}"),
        table=sql.Identifier(schema, table), where=where)


def fingerprint_query(conn: psycopg.Connection, schemas: tuple[str, ...] = SCHEMAS,
                      tenant_id: uuid.UUID | None = None) -> sql.Composed:
    """The one query ``data_fingerprint`` runs, built from the catalog as it is now."""
    tables = fingerprinted_tables(conn, schemas)
    if not tables:
        return sql.SQL("SELECT NULL::text, 0::bigint, NULL::text, false WHERE false")
    return sql.SQL(" UNION ALL ").join(_table_query(s, t, has, tenant_id) for s, t, has in tables)


def data_fingerprint(conn: psycopg.Connection, schemas: tuple[str, ...] = SCHEMAS,
                     tenant_id: uuid.UUID | None = None, query: sql.Composed | None = None) -> Fingerprint:
    """``{"schema.table": (row count, md5 of the sorted rows)}`` for every table of ``schemas`` (see module doc)."""
    rows = conn.execute(query or fingerprint_query(conn, schemas, tenant_id)).fetchall()
    filtered = [name for name, _, _, active in rows if active]
    if filtered:
        raise RowSecurityActive(f"row-level security filters {', '.join(filtered)} for role "
                                f"{conn.info.parameter_status('session_authorization')} or its SET ROLE: "
                                "read the fingerprint as the owner")
    return {name: (count, checksum) for name, count, checksum, _ in rows}


def fingerprint_changes(before: Fingerprint, after: Fingerprint) -> list[str]:
    """One line per table whose rows differ (``schema.table: 3 rows → 4 rows`` or ``… same count, rows changed``)."""
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None or new is None:
            lines.append(f"{name}: {'appeared' if old is None else 'disappeared'}")
        elif old[0] != new[0]:
            lines.append(f"{name}: {old[0]} rows → {new[0]} rows")
        else:
            lines.append(f"{name}: {old[0]} rows, same count, rows changed")
    return lines


def table_columns(conn: psycopg.Connection, schemas: tuple[str, ...] = SCHEMAS) -> dict[str, list[str]]:
    """``{"schema.table": [column, …]}`` in column order, for every table a fingerprint covers."""
    rows = conn.execute(
        "SELECT n.nspname || '.' || c.relname, array_agg(a.attname::text ORDER BY a.attnum) FROM pg_class AS c"
        " JOIN pg_namespace AS n ON n.oid = c.relnamespace JOIN pg_attribute AS a ON a.attrelid = c.oid"
        " WHERE n.nspname = ANY (%s) AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        " AND a.attnum > 0 AND NOT a.attisdropped GROUP BY 1", (list(schemas),)).fetchall()
    return dict(rows)


def kept_rows(conn: psycopg.Connection, columns: dict[str, list[str]]) -> Fingerprint:
    """Row count and md5 of the sorted rows of each table, reading only the given columns (those an older release
    had). A table or column that is gone makes the query fail (42P01 / 42703): the caller checks presence first."""
    if not columns:
        return {}
    parts = [sql.SQL("SELECT {name}, count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text COLLATE"
                     " \"C\"), '')) FROM (SELECT {cols} FROM {table}) AS r").format(
        name=sql.Literal(name), cols=sql.SQL(", ").join(map(sql.Identifier, cols)),
        table=sql.Identifier(*name.split(".")))
        for name, cols in sorted(columns.items())]
    return {name: (count, digest) for name, count, digest in conn.execute(sql.SQL(" UNION ALL ").join(parts))}

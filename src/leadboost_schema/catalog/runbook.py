"""The source document's operator queries, as written there: the post-migration verification block, the weekly
maintenance scripts and the diagnostic queries, with the checks that tell a passing verification from a failing one.

The SQL text is copied verbatim from RFC-PHOENIX-01 ("Verificación Post-Migración", "Scripts de Mantenimiento",
"Queries de Diagnóstico") so that what the CLI runs is exactly what an operator following the document types.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

SEED_TENANT = "11111111-1111-1111-1111-111111111111"
SEED = "seed data"
SEED_ITEM_VERSION = 1  # stock.inventory_items.version of SEED_SKU as 008_seed_data.sql inserts it
SEED_SKU = "ACME-WIDGET-001"
SCHEMAS = ("iam", "finanzas", "stock", "gobernanza", "sys", "events", "migration")
# "debe ser ~15": information_schema.tables lists views too, so the document's count is approximate. We accept
# the tables the document names (13) up to that count plus the views it names (3) and some headroom.
TABLE_COUNT_RANGE = (13, 30)


@dataclass(frozen=True)
class Query:
    """One query of the document, its title there (in English), and how to judge its rows (None: a report)."""

    title: str
    sql: str
    judge: Callable[[list[dict[str, Any]]], tuple[bool, str]] | None = None
    about: str = "schema"  # what a failure means: the schema is wrong, or (SEED) the seed data is not as 008 left it


@dataclass
class QueryResult:
    title: str
    sql: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    ok: bool | None = None  # None: a report, nothing to judge
    verdict: str = ""
    error: str | None = None  # the server's message when the query failed
    sqlstate: str | None = None
    seed: str | None = None  # a seed-data check: "fresh", "used" or "absent" (None: a schema check)

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "sql": self.sql, "ok": self.ok, "verdict": self.verdict,
                "error": self.error, "sqlstate": self.sqlstate, "seed": self.seed, "rows": self.rows}

    @property
    def schema_ok(self) -> bool:
        """False only when this result says the schema is wrong (a used or absent seed does not)."""
        return self.ok is not False


def _count(rows: list[dict[str, Any]]) -> int:
    return int(next(iter(rows[0].values()))) if rows else 0


def _seven_schemas(rows: list[dict[str, Any]]) -> tuple[bool, str]:
    found = _count(rows)
    return found == 7, f"{found} schemas (must be 7)"


def _about_fifteen_tables(rows: list[dict[str, Any]]) -> tuple[bool, str]:
    found = _count(rows)
    low, high = TABLE_COUNT_RANGE
    return low <= found <= high, f"{found} tables and views (document: ~15)"


def _foreign_keys_present(rows: list[dict[str, Any]]) -> tuple[bool, str]:
    found = _count(rows)
    return found > 0, f"{found} foreign keys (must be present)"


def _reservation_succeeds(rows: list[dict[str, Any]]) -> tuple[bool, str]:
    if not rows:
        return False, "reserve_inventory returned no row (must return success = true)"
    success = rows[0].get("success")
    detail = ", ".join(f"{k}={v}" for k, v in rows[0].items() if k != "success")
    return success is True, f"success = {str(success).lower()}" + (f" ({detail})" if detail else "")


VERIFICATION: tuple[Query, ...] = (
    Query("1. schemas created (must be 7)", """SELECT COUNT(*) FROM information_schema.schemata 
WHERE schema_name IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration');""",
          _seven_schemas),
    Query("2. total tables (must be ~15)", """SELECT COUNT(*) FROM information_schema.tables
WHERE table_schema IN ('iam', 'finanzas', 'stock', 'gobernanza', 'sys', 'events', 'migration');""",
          _about_fifteen_tables),
    Query("3. foreign keys (referential integrity)", """SELECT COUNT(*) FROM information_schema.table_constraints 
WHERE constraint_type = 'FOREIGN KEY';""", _foreign_keys_present),
    Query("4. inventory reservation (must return success=true)", """SELECT * FROM stock.reserve_inventory(
    '11111111-1111-1111-1111-111111111111', 
    'ACME-WIDGET-001', 
    10, 
    1
);""", _reservation_succeeds, about=SEED),
)
# reserve_inventory's unknown tenant / unknown item (schema/README.md "Error codes"): the seed rows are absent
SEED_ABSENT = ("LB002", "LB201")

MAINTENANCE: tuple[Query, ...] = (
    Query("expired idempotency keys removed", "SELECT sys.cleanup_expired_request_keys();"),
    Query("old snapshots removed (keeps the last 3)", "SELECT events.cleanup_old_snapshots();"),
    Query("failed sagas, last 7 days",
          "SELECT * FROM sys.sagas WHERE state = 'FAILED' AND completed_at > NOW() - INTERVAL '7 days';"),
    Query("migration validation report", "SELECT * FROM migration.validate_migrated_data();"),
)

DIAGNOSTICS: tuple[Query, ...] = (
    Query("active sagas", "SELECT * FROM sys.active_sagas;"),
    Query("active policies", "SELECT * FROM gobernanza.active_policies;"),
    Query("stream summary (event sourcing)", "SELECT * FROM events.stream_summary;"),
    Query("consolidated balances", """SELECT 
    tenant_id,
    account_type,
    SUM(amount * direction) as balance
FROM finanzas.ledger_entries
GROUP BY tenant_id, account_type;"""),
)


def _run_one(conn: psycopg.Connection, query: Query) -> QueryResult:
    result = QueryResult(query.title, query.sql)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query.sql.encode())  # bytes: sent as written, no %-placeholder parsing
        result.rows = cur.fetchall() if cur.description else []
    if query.judge is not None:
        result.ok, result.verdict = query.judge(result.rows)
    return result


def run_verification(conn: psycopg.Connection) -> list[QueryResult]:
    """The verification block, inside a transaction that is rolled back: query 4 reserves stock at version 1,
    which would otherwise change the seed data and make the next verification fail. A query that errors is
    reported (its SQLSTATE and message) and the others still run."""
    with conn.transaction(force_rollback=True):
        return [_judge_seed(query, _guarded(conn, query, savepoint=True)) for query in VERIFICATION]


def _seed_item_changed(row: dict[str, Any]) -> bool:
    """The seed item no longer as 008_seed_data.sql leaves it (version 1, nothing reserved): a refusal then says
    the seed was used. A refusal of the untouched item stays a failure: the function is wrong."""
    return (row.get("current_version"), row.get("quantity_reserved")) != (SEED_ITEM_VERSION, 0)


def _judge_seed(query: Query, result: QueryResult) -> QueryResult:
    """Query 4 reserves the seed item at version 1: it tells the state of the seed data, not the schema's. A
    reservation refused (the item was reserved since 008_seed_data.sql ran, e.g. by this very block run in psql
    without a rollback) or an unknown item (no seed data) is reported as such, not as a schema failure; any other
    error (the function is missing, a permission) still is."""
    if query.about != SEED:
        return result
    if result.ok:
        result.seed = "fresh"
    elif result.error is None and result.rows and _seed_item_changed(result.rows[0]):
        result.seed, result.ok = "used", None
        result.verdict = (f"seed data used, schema fine: {result.verdict} — the seed item was reserved since "
                          "008_seed_data.sql ran (e.g. this block run in psql without a rollback); a fresh "
                          "seed needs a new database: `leadboost-schema rollback --yes` then `up`")
    elif result.sqlstate in SEED_ABSENT:
        result.seed, result.ok = "absent", None
        result.verdict = f"no seed data, schema fine: {result.error} — load it with `leadboost-schema seed`"
        result.error = None
    return result


def run_reports(conn: psycopg.Connection, queries: tuple[Query, ...]) -> list[QueryResult]:
    """Maintenance or diagnostic queries on an autocommit connection, each committed on its own (the cleanups
    are meant to take effect); a failing query is reported and the others still run."""
    return [_guarded(conn, query, savepoint=False) for query in queries]


def _guarded(conn: psycopg.Connection, query: Query, savepoint: bool) -> QueryResult:
    try:
        if not savepoint:
            return _run_one(conn, query)
        with conn.transaction():  # a savepoint: one failing query does not abort the rest of the block
            return _run_one(conn, query)
    except psycopg.OperationalError:
        raise  # the connection is gone: nothing else can run
    except psycopg.Error as error:
        return QueryResult(query.title, query.sql, ok=False, verdict="query failed",
                           error=error.diag.message_primary or str(error).strip(), sqlstate=error.diag.sqlstate)


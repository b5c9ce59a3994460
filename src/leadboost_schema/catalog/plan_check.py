"""Which tables a statement reads, by which index, and how many rows: from EXPLAIN (FORMAT JSON), and from
auto_explain for what a function call runs inside (its own statements, its triggers', foreign-key checks)."""
from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

_SCAN_NODES = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Index Scan", "Tid Scan", "Tid Range Scan",
               "Sample Scan"}


@dataclass(frozen=True)
class Scan:
    """One read of a table in a plan: the plan node type, the index if any, and with ANALYZE the rows it
    produced (all loops; for a bitmap scan, the index entries it matched)."""

    node: str
    table: str  # schema.table
    index: str | None
    rows: float | None = None
    statement: str = ""

    def __str__(self) -> str:
        how = f"{self.node} using {self.index}" if self.index else self.node
        rows = f" ({self.rows:g} rows)" if self.rows is not None else ""
        where = f" in: {' '.join(self.statement.split())[:160]}" if self.statement else ""
        return f"{how} on {self.table}{rows}{where}"


def scans(plan: Mapping[str, Any], statement: str = "", heap_table: str | None = None) -> list[Scan]:
    """Every table read in a plan tree (an EXPLAIN JSON ``Plan`` node and its children, init plans included).
    A bitmap scan is reported as the index scans under its heap scan, named after the heap's table."""
    node_type = plan.get("Node Type", "")
    table = f"{plan.get('Schema', '?')}.{plan['Relation Name']}" if "Relation Name" in plan else None
    rows = plan["Actual Rows"] * plan.get("Actual Loops", 1) if "Actual Rows" in plan else None
    found: list[Scan] = []
    if node_type == "Bitmap Index Scan":
        found.append(Scan(node_type, heap_table or "?", plan.get("Index Name"), rows, statement))
    elif node_type in _SCAN_NODES and table:
        found.append(Scan(node_type, table, plan.get("Index Name"), rows, statement))
    below = table if node_type == "Bitmap Heap Scan" else heap_table
    for child in plan.get("Plans", []):
        found.extend(scans(child, statement, below))
    return found


def explain(conn: psycopg.Connection, statement: str, params: Mapping[str, Any] | None = None, *,
            generic: bool = False, analyze: bool = False) -> dict[str, Any]:
    """The plan of ``statement`` (psycopg ``%(name)s`` placeholders) as the server runs it: with ``params``
    bound (a custom plan, what a driver's first executions get), or, ``generic``, the plan a prepared
    statement settles on, made without looking at the values (PREPARE + plan_cache_mode = force_generic_plan +
    EXPLAIN EXECUTE). ``analyze`` runs it too, for row counts (not timings). VERBOSE, so tables carry their
    schema."""
    options = sql.SQL("EXPLAIN (FORMAT JSON, VERBOSE{}) ").format(
        sql.SQL(", ANALYZE, TIMING OFF") if analyze else sql.SQL(""))
    params = dict(params or {})
    if not generic:
        return _plan(conn.execute(options + sql.SQL(statement), params).fetchone()[0])
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", statement)
    name = sql.Identifier(f"plan_check_{abs(hash(statement))}")
    conn.execute(sql.SQL("PREPARE {} AS ").format(name) + sql.SQL(numbered))
    try:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        # EXECUTE's arguments cannot be bound parameters; a generic plan does not look at them anyway.
        arguments = sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(params[n]) for n in names)) \
            if names else sql.SQL("")
        return _plan(conn.execute(options + sql.SQL("EXECUTE {}{}").format(name, arguments)).fetchone()[0])
    finally:
        conn.execute("RESET plan_cache_mode")
        conn.execute(sql.SQL("DEALLOCATE {}").format(name))


def _plan(document: Any) -> dict[str, Any]:
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


@contextlib.contextmanager
def nested_plans(conn: psycopg.Connection, *, analyze: bool = False) -> Iterator[list[Scan]]:
    """``with nested_plans(conn) as found:`` every table read by the statements run on ``conn`` in the block,
    nested ones included, as auto_explain plans them (``analyze``: with row counts). Needs a superuser
    connection (LOAD, auto_explain settings); the caller must be that role again when the block ends."""
    found: list[Scan] = []

    def collect(diagnostic: psycopg.errors.Diagnostic) -> None:
        message = diagnostic.message_primary or ""
        if "plan:" in message:
            document = json.loads(message.split("plan:", 1)[1])
            found.extend(scans(document["Plan"], document.get("Query Text", "")))

    conn.execute("LOAD 'auto_explain'")
    settings = {"auto_explain.log_min_duration": "0", "auto_explain.log_nested_statements": "on",
                "auto_explain.log_format": "json", "auto_explain.log_verbose": "on",
                "auto_explain.log_analyze": "on" if analyze else "off", "auto_explain.log_timing": "off",
                "auto_explain.log_level": "notice", "client_min_messages": "notice"}
    for setting, value in settings.items():
        conn.execute("SELECT set_config(%s, %s, false)", (setting, value))
    conn.add_notice_handler(collect)
    try:
        yield found
    finally:
        conn.remove_notice_handler(collect)
        conn.execute("SELECT set_config('auto_explain.log_min_duration', '-1', false)")


def index_violations(found: Iterable[Scan], allowed: Mapping[str, tuple[str, ...]],
                     large_tables: frozenset[str]) -> list[str]:
    """Reads of large tables that are not by one of the indexes ``allowed`` for that table, as sentences."""
    return [f"{scan}: expected an index scan using one of {sorted(allowed.get(scan.table, ()))}"
            for scan in found
            if scan.table in large_tables and scan.index not in allowed.get(scan.table, ())]


def rows_read(found: Iterable[Scan], large_tables: frozenset[str]) -> float:
    """Rows the scans of large tables produced in all (ANALYZE plans only)."""
    return sum(scan.rows or 0 for scan in found if scan.table in large_tables)

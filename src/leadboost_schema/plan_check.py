"""Which tables a statement reads and by which index: from EXPLAIN (FORMAT JSON), and from auto_explain for the
statements a function call runs inside (its own queries, its triggers', its foreign-key checks)."""
from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

_SCAN_NODES = {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Bitmap Index Scan",
               "Tid Scan", "Tid Range Scan", "Sample Scan"}


@dataclass(frozen=True)
class Scan:
    """One read of a table in a plan: ``node`` is the plan node type, ``index`` the index name if any."""

    node: str
    table: str  # schema.table
    index: str | None
    statement: str = ""

    def __str__(self) -> str:
        how = f"{self.node} using {self.index}" if self.index else self.node
        return f"{how} on {self.table}" + (f" in: {' '.join(self.statement.split())[:160]}" if self.statement else "")


def scans(plan: Mapping[str, Any], statement: str = "", heap_table: str | None = None) -> list[Scan]:
    """Every table read in a plan tree (one EXPLAIN JSON ``Plan`` node and its children, init plans included).
    A bitmap scan is reported as the index scans under its heap scan, named after the heap's table."""
    node_type = plan.get("Node Type", "")
    table = f"{plan.get('Schema', '?')}.{plan['Relation Name']}" if "Relation Name" in plan else None
    found: list[Scan] = []
    if node_type == "Bitmap Index Scan":
        found.append(Scan(node_type, heap_table or "?", plan.get("Index Name"), statement))
    elif node_type in _SCAN_NODES and node_type != "Bitmap Heap Scan" and table:
        found.append(Scan(node_type, table, plan.get("Index Name"), statement))
    below = table if node_type == "Bitmap Heap Scan" else heap_table
    for child in plan.get("Plans", []):
        found.extend(scans(child, statement, below))
    return found


def explain(conn: psycopg.Connection, statement: str, params: Mapping[str, Any] | None = None, *,
            generic: bool = False) -> dict[str, Any]:
    """The plan of ``statement`` (psycopg ``%(name)s`` placeholders) as the server runs it: with ``params`` bound
    (a custom plan, what a driver's first executions get), or, ``generic``, the plan a prepared statement settles
    on, made without looking at the values (PREPARE + plan_cache_mode = force_generic_plan + EXPLAIN EXECUTE).
    VERBOSE, so tables carry their schema."""
    params = dict(params or {})
    if not generic:
        row = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON, VERBOSE) ") + sql.SQL(statement), params).fetchone()
        return _plan(row[0])
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", statement)
    name = f"plan_check_{abs(hash(statement))}"
    conn.execute(sql.SQL("PREPARE {} AS ").format(sql.Identifier(name)) + sql.SQL(numbered))
    try:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        # EXECUTE's arguments cannot be bound parameters; a generic plan does not look at them anyway.
        arguments = sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(params[n]) for n in names)) \
            if names else sql.SQL("")
        row = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE {}{}").format(
            sql.Identifier(name), arguments)).fetchone()
        return _plan(row[0])
    finally:
        conn.execute("RESET plan_cache_mode")
        conn.execute(sql.SQL("DEALLOCATE {}").format(sql.Identifier(name)))


def _plan(document: Any) -> dict[str, Any]:
    return (json.loads(document) if isinstance(document, str) else document)[0]["Plan"]


@contextlib.contextmanager
def nested_plans(conn: psycopg.Connection) -> Iterator[list[Scan]]:
    """``with nested_plans(conn) as found:`` every table read by the statements run on ``conn`` in the block,
    nested ones included, as auto_explain plans them (LOAD needs a superuser connection; settings are reset after).
    """
    found: list[Scan] = []

    def collect(diagnostic: psycopg.errors.Diagnostic) -> None:
        message = diagnostic.message_primary or ""
        if "plan:" not in message:
            return
        document = json.loads(message.split("plan:", 1)[1])
        found.extend(scans(document["Plan"], document.get("Query Text", "")))

    conn.execute("LOAD 'auto_explain'")
    settings = {"auto_explain.log_min_duration": "0", "auto_explain.log_nested_statements": "on",
                "auto_explain.log_format": "json", "auto_explain.log_verbose": "on",
                "auto_explain.log_level": "notice", "client_min_messages": "notice"}
    for name, value in settings.items():
        conn.execute("SELECT set_config(%s, %s, false)", (name, value))
    conn.add_notice_handler(collect)
    try:
        yield found
    finally:
        conn.remove_notice_handler(collect)
        conn.execute("SELECT set_config('auto_explain.log_min_duration', '-1', false)")


def index_violations(found: list[Scan], allowed: Mapping[str, tuple[str, ...]], large_tables: frozenset[str]) -> list[str]:
    """Reads of large tables that are not by one of the indexes ``allowed`` for that table, as sentences."""
    return [f"{scan}: expected an index scan using one of {sorted(allowed.get(scan.table, ()))}"
            for scan in found
            if scan.table in large_tables and (scan.index is None or scan.index not in allowed.get(scan.table, ()))]

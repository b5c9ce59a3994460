"""Values the CHECKs must not let in and session settings that must not weaken a check (issue 17.9, 17.10).

* ``standard_conforming_strings = off`` changes how a backslash in a string literal is read when a function is
  compiled: no function body of the schema may have one, and the action check holds in such a session.
* NaN passes ``> 0`` and ``>= 0`` (it sorts above every number): every numeric column with a CHECK refuses it.
* ``firebase_id`` is limited in bytes, below what its unique index can take: too long is 23514, never 54000.
* A binding with one brace (``'{<uuid>'``) is LB003 like any malformed binding, not 22P02.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from leadboost_schema.catalog.snapshot import SCHEMAS, load_contract
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.server import Server
from leadboost_schema.testing.attempts import acting_as, attempt, rolled_back
from leadboost_schema.testing.tenant_rows import TenantRows, make_tenant_rows

CONTRACT = load_contract()
# Numeric columns with a CHECK, in every schema but finanzas (its legs are the ledger change's, issue 17.1 branch).
NUMERIC_CHECKED = sorted(
    (table, column["name"]) for table, spec in CONTRACT["tables"].items() if not table.startswith("finanzas.")
    for column in spec["columns"] if column["type"].startswith("numeric")
    and any(c["type"] == "CHECK" and column["name"] in c["definition"] for c in spec["constraints"].values()))
FIREBASE_TABLES = sorted(t for t, spec in CONTRACT["tables"].items()
                         if any(c["name"] == "firebase_id" for c in spec["columns"]))


@dataclass
class World:
    dsn: str
    conn: psycopg.Connection
    a: TenantRows


@pytest.fixture(scope="module")
def world(leadboost_server: Server, leadboost_template: str) -> Iterator[World]:
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as setup:
            a = make_tenant_rows(setup)
        with psycopg.connect(dsn, autocommit=True) as conn:
            yield World(dsn, conn, a)


# --- standard_conforming_strings ----------------------------------------------------------------------------------

_LITERAL = re.compile(r"(?<![A-Za-z0-9_$])[Ee]?'(?:[^']|'')*'")


def backslash_literals(body: str) -> list[str]:
    """String literals of a function body that contain a backslash (comments removed first)."""
    code = re.sub(r"--[^\n]*", "", body)
    return [literal for literal in _LITERAL.findall(code) if "\\" in literal]


@pytest.mark.parametrize(("body", "found"), [
    ("SELECT x ~ '^a\\.b$'", True),
    ("SELECT x ~ '^a[.]b$'", False),
    ("SELECT 'it''s' -- a \\ in a comment", False),
    ("SELECT E'\\n'", True),
])
def test_the_backslash_check_finds_backslashes_in_literals(body: str, found: bool) -> None:
    assert bool(backslash_literals(body)) == found


def test_no_function_body_has_a_backslash_in_a_string_literal(world: World) -> None:
    """Rule: a literal is read when the function is compiled, under the session's standard_conforming_strings;
    without backslashes it means the same either way."""
    with rolled_back(world.conn):
        bodies = world.conn.execute(
            "SELECT p.oid::regprocedure::text, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = ANY (%s) AND p.prolang IN (SELECT oid FROM pg_language"
            " WHERE lanname IN ('plpgsql', 'sql'))", (list(SCHEMAS),)).fetchall()
    assert bodies
    assert {name: found for name, body in bodies if (found := backslash_literals(body))} == {}


@pytest.mark.parametrize("role", ["owner", "leadboost_app"])
def test_the_action_check_holds_without_standard_conforming_strings(world: World, role: str) -> None:
    """In a new session with standard_conforming_strings = off (so the functions compile under it), a dot-less
    action is still refused (LB301), not ALLOWED."""
    with psycopg.connect(world.dsn, autocommit=True) as conn:
        conn.execute("SET standard_conforming_strings = off")
        with rolled_back(conn):
            if role == "owner":
                result = attempt(conn, "SELECT * FROM gobernanza.validate_action(%s, 'ads spend;drop', 1)",
                                 (world.a.tenant_id,))
            else:
                with acting_as(conn, world.a.tenant_id):
                    result = attempt(conn, "SELECT * FROM gobernanza.validate_action(%s, 'ads spend;drop', 1)",
                                     (world.a.tenant_id,))
    assert result.sqlstate == "LB301", result


@pytest.mark.parametrize("length", [199, 200, 201, 5000])
def test_a_refused_action_is_quoted_in_the_message_up_to_200_characters(world: World, length: int) -> None:
    """LB301 quotes the bad action so the caller sees what was sent, but never more than its first 200
    characters (a megabyte of garbage is not echoed back into logs): shorter ones whole, longer ones cut at 200."""
    action = "Z" * length
    with psycopg.connect(world.dsn, autocommit=True) as conn, rolled_back(conn):
        result = attempt(conn, "SELECT * FROM gobernanza.validate_action(%s, %s, 1)", (world.a.tenant_id, action))
    assert result.sqlstate == "LB301", result
    quoted = re.search(r"got '(Z*)'", result.error.diag.message_primary).group(1)
    assert quoted == action[:200]


# --- NaN, firebase_id, the binding ------------------------------------------------------------------------------

def test_the_numeric_columns_with_a_check_are_the_known_ones() -> None:
    assert NUMERIC_CHECKED == [("gobernanza.policies", "limit_value"), ("gobernanza.policies", "window_consumed"),
                               ("migration.campaigns", "budget")]


@pytest.mark.parametrize(("table", "column"), NUMERIC_CHECKED)
def test_no_numeric_check_admits_nan(world: World, table: str, column: str) -> None:
    """Rule: a numeric column guarded by a CHECK refuses NaN (23514): a NaN spend cap would never be exceeded."""
    with rolled_back(world.conn):
        # Only rows where the column is set: elsewhere another CHECK (a policy's shape) would refuse the value.
        result = attempt(world.conn, sql.SQL("UPDATE {t} SET {c} = 'NaN' WHERE tenant_id = %s AND {c} IS NOT NULL"
                                             " RETURNING 1").format(
            t=sql.Identifier(*table.split(".")), c=sql.Identifier(column)), (world.a.tenant_id,))
    assert result.sqlstate == "23514", result


@pytest.mark.parametrize("table", FIREBASE_TABLES)
@pytest.mark.parametrize(("value", "fits"), [("é" * 750, True), ("é" * 751, False), ("€" * 1500, False),
                                             ("x" * 1500, True), ("x" * 1501, False)],
                         ids=["1500 bytes", "1502 bytes", "1500 characters of 3 bytes", "1500 ascii", "1501 ascii"])
def test_firebase_id_is_bounded_below_its_index_limit(world: World, table: str, value: str, fits: bool) -> None:
    """Every firebase_id up to 1500 bytes is stored (its unique index takes it); a longer one is refused by the
    CHECK (23514), never by the index (54000)."""
    with rolled_back(world.conn):
        result = attempt(world.conn, sql.SQL("UPDATE {} SET firebase_id = %s WHERE tenant_id = %s").format(
            sql.Identifier(*table.split("."))), (value, world.a.tenant_id))
    assert (result.error is None) if fits else (result.sqlstate == "23514"), result


@pytest.mark.parametrize("binding", ["{{{}", "{}}}", "{{{}}}}}"])
def test_an_unbalanced_brace_in_the_binding_is_lb003(world: World, binding: str) -> None:
    bound = binding.format(world.a.tenant_id)
    with rolled_back(world.conn), acting_as(world.conn, bound):
        read = attempt(world.conn, "SELECT count(*) FROM stock.inventory_items")
        called = attempt(world.conn, "SELECT * FROM stock.reserve_inventory(%s, 'SKU-1', 1, 1)",
                         (world.a.tenant_id,))
    assert (read.sqlstate, called.sqlstate) == ("LB003", "LB003")
    assert read.message == f"app.tenant_id is not a valid uuid: '{bound}'"


def test_a_binding_in_braces_is_the_tenant(world: World) -> None:
    with rolled_back(world.conn), acting_as(world.conn, f"{{{world.a.tenant_id}}}"):
        seen = world.conn.execute("SELECT DISTINCT tenant_id FROM stock.inventory_items").fetchall()
    assert seen == [(world.a.tenant_id,)]
    assert uuid.UUID(str(world.a.tenant_id))

"""Least privilege and tenant isolation, derived from the catalog: leadboost_app owns nothing and cannot touch a
trigger; no route (direct, a view, a function, its own temp objects) updates, deletes or truncates a committed ledger
or event-store row, even after the document's troubleshooting GRANT block; every SECURITY DEFINER function pins a
safe search_path and dynamic SQL (if any) quotes what it splices; and a session bound to tenant A sees and changes
nothing of tenant B, in EVERY tenant table and through EVERY public function — while the owner is unaffected.

Tables, triggers and functions come from the catalog contract (``contract.json``, kept equal to the live catalog by
contracts/test_catalog.py; ``test_the_lists_are_the_live_catalog`` checks them here too), so a new one is covered
without an edit. One world per module (two tenants with rows in every tenant table); every test runs in a
transaction that is rolled back, each statement in a savepoint.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from contracts.test_document_queries import GRANT_APP, run
from leadboost_schema.catalog.snapshot import SCHEMAS, load_contract
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.server import Server
from leadboost_schema.testing.attempts import APP_ROLE, acting_as, attempt, rolled_back
from leadboost_schema.testing.data_fingerprint import data_fingerprint, fingerprint_changes
from leadboost_schema.testing.public_api import (
    Function,
    MissingArgument,
    all_functions,
    app_functions,
    call,
    valid_arguments,
)
from leadboost_schema.testing.tenant_rows import TenantRows, make_tenant_rows

CONTRACT = load_contract()
APP_SCHEMAS = ("iam", "finanzas", "stock", "gobernanza", "sys", "events")
# Tenant tables: every table with a tenant_id column, plus the tenants themselves (keyed by id).
TENANT_TABLES = sorted(name for name, table in CONTRACT["tables"].items()
                       if any(c["name"] == "tenant_id" for c in table["columns"]) or name == "iam.tenants")
TRIGGERS = sorted((table, trigger) for table, spec in CONTRACT["tables"].items() for trigger in spec["triggers"])
# Append-only tables: those whose statement trigger refuses UPDATE, DELETE and TRUNCATE.
APPEND_ONLY = sorted(table for table, spec in CONTRACT["tables"].items()
                     if any("DELETE OR UPDATE OR TRUNCATE" in t["definition"] for t in spec["triggers"].values()))
# Views reading the ledger or the event store (the others are simple views over mutable tables).
LEDGER_VIEWS = sorted(name for name, view in CONTRACT["views"].items()
                      if any(table in view["definition"] for table in APPEND_ONLY)
                      or any(table.split(".")[1] in view["definition"] for table in APPEND_ONLY))
TENANT_FUNCTIONS = [f for f in app_functions(CONTRACT) if f.takes_tenant]
# Functions a CHECK constraint calls (events.event_store_row_is_valid): PUBLIC may run them, or a role allowed to
# INSERT would be refused with 42501 instead of the CHECK's 23514. Pure tests of their arguments, not the API.
CHECK_FUNCTIONS = sorted({name for table in CONTRACT["tables"].values()
                          for constraint in table["constraints"].values() if constraint["type"] == "CHECK"
                          for name in re.findall(r"\b([a-z_]+\.[a-z_]+)\(", constraint["definition"])})
GRANT_STATES = ["as the schema grants", "after the troubleshooting GRANT block"]
# Everything a careless operator could grant but TRUNCATE (which row-level security does not govern).
GRANT_ALL_DML = ("GRANT USAGE ON SCHEMA {schemas} TO leadboost_app; "
                 "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schemas} TO leadboost_app; "
                 "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {schemas} TO leadboost_app").format(
                     schemas=", ".join(SCHEMAS))
# What refuses a cross-tenant write: row-level security (42501), a privilege the event trigger took back (42501), or a
# BEFORE trigger that fires earlier (append-only LB901, closed posting LB108, immutable identity LB203/LB502, event
# version/type LB601/LB604, the tenant binding LB003 checked by triggers before they read anything) — never success.
# LB112: stored balances refuse every direct write, before row-level security looks at the row.
WRITE_REFUSALS = {"42501", "LB901", "LB108", "LB112", "LB203", "LB502", "LB601", "LB604", "LB003"}


@dataclass
class World:
    conn: psycopg.Connection  # each test is one rolled-back transaction (rolled_back)
    a: TenantRows
    b: TenantRows


@pytest.fixture(scope="module")
def world(leadboost_server: Server, leadboost_template: str) -> Iterator[World]:
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as setup:
            a, b = make_tenant_rows(setup), make_tenant_rows(setup)
        with psycopg.connect(dsn, autocommit=True) as conn:
            yield World(conn, a, b)


def grant(conn: psycopg.Connection, state: str) -> None:
    if state == "after the troubleshooting GRANT block":
        run(conn, GRANT_APP)


def tenant_column(table: str) -> str:
    return "id" if table == "iam.tenants" else "tenant_id"


def qualified(table: str) -> sql.Identifier:
    return sql.Identifier(*table.split("."))


# --- the lists are the catalog ---------------------------------------------------------------------------------

def test_the_lists_are_the_live_catalog(world: World) -> None:
    """The parametrized lists (read from contract.json) are exactly what the live database has."""
    conn = world.conn
    with rolled_back(conn):
        live_tenant_tables = {f"{s}.{t}" for s, t in conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = ANY (%s) AND c.relkind IN ('r', 'p')"
            " AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id')"
            "      OR (n.nspname, c.relname) = ('iam', 'tenants'))", (list(SCHEMAS),))}
        live_triggers = set(conn.execute(
            "SELECT n.nspname || '.' || c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY (%s) AND NOT t.tgisinternal",
            (list(SCHEMAS),)).fetchall())
        live_app_functions = {row[0] for row in conn.execute(
            "SELECT p.oid::regproc::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = ANY (%s) AND has_function_privilege('leadboost_app', p.oid, 'EXECUTE')"
            " AND p.prorettype <> 'trigger'::regtype", (list(SCHEMAS),))}
    assert live_tenant_tables == set(TENANT_TABLES)
    assert live_triggers == set(TRIGGERS)
    assert set(CHECK_FUNCTIONS) <= live_app_functions
    assert live_app_functions - set(CHECK_FUNCTIONS) == {f.name for f in app_functions(CONTRACT)}
    assert APPEND_ONLY == ["events.event_store", "finanzas.ledger_entries", "finanzas.transactions"]


# --- the role ----------------------------------------------------------------------------------------------------

def test_the_app_role_owns_nothing_and_inherits_nothing(world: World) -> None:
    conn = world.conn
    with rolled_back(conn):
        owned = conn.execute(
            "SELECT classid::regclass::text, objid FROM pg_shdepend WHERE refobjid = %s::regrole AND deptype = 'o'"
            " AND dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))",
            (APP_ROLE,)).fetchall()
        role = conn.execute("SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolreplication, rolcanlogin"
                            " FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
        member_of = conn.execute("SELECT roleid::regrole::text FROM pg_auth_members WHERE member = %s::regrole",
                                 (APP_ROLE,)).fetchall()
        can_create = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE has_schema_privilege(%s, oid, 'CREATE')", (APP_ROLE,)).fetchall()
    assert owned == []
    assert role == (False, False, False, False, False, False)
    assert member_of == []
    assert can_create == []  # not even in public: nothing of its own to hang a trigger, rule or function on


@pytest.mark.parametrize("state", GRANT_STATES)
@pytest.mark.parametrize(("table", "trigger"), TRIGGERS, ids=[f"{t}:{g}" for t, g in TRIGGERS])
def test_the_app_cannot_alter_disable_or_drop_a_trigger(world: World, state: str, table: str, trigger: str) -> None:
    conn = world.conn
    name, relation = sql.Identifier(trigger), qualified(table)
    statements = [
        sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(relation, name),
        sql.SQL("ALTER TABLE {} DISABLE TRIGGER ALL").format(relation),
        sql.SQL("ALTER TABLE {} ENABLE REPLICA TRIGGER {}").format(relation, name),
        sql.SQL("ALTER TRIGGER {} ON {} RENAME TO lb_renamed").format(name, relation),
        sql.SQL("DROP TRIGGER {} ON {}").format(name, relation),
        sql.SQL("CREATE TRIGGER lb_shadow BEFORE INSERT ON {} FOR EACH ROW EXECUTE FUNCTION suppress_redundant_"
                "updates_trigger()").format(relation),
        sql.SQL("SET session_replication_role = replica"),
    ]
    with rolled_back(conn):
        grant(conn, state)
        function = conn.execute("SELECT t.tgfoid::regprocedure::text FROM pg_trigger t WHERE t.tgrelid = %s::regclass"
                                " AND t.tgname = %s", (table, trigger)).fetchone()[0]
        statements += [sql.SQL(f"ALTER FUNCTION {function} SECURITY DEFINER"),
                       sql.SQL(f"ALTER FUNCTION {function} RESET ALL"),
                       sql.SQL(f"DROP FUNCTION {function} CASCADE")]
        with acting_as(conn, world.a.tenant_id):
            results = [(s.as_string(conn), attempt(conn, s)) for s in statements]
        enabled = conn.execute("SELECT tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname = %s",
                               (table, trigger)).fetchone()
    refused = {text: str(r) for text, r in results if r.sqlstate != "42501"}
    assert refused == {}, "statements not refused with 42501 (insufficient_privilege)"
    assert enabled == ("A",)


# --- the ledger and the event store, by every route ---------------------------------------------------------------

def _committed_rows(conn: psycopg.Connection) -> dict[str, set[str]]:
    return {table: {row[0] for row in conn.execute(sql.SQL("SELECT t::text FROM {} AS t").format(qualified(table)))}
            for table in APPEND_ONLY}


def _routes(table: str) -> list[sql.Composable | list[sql.Composable]]:
    relation = qualified(table)
    return [
        sql.SQL("UPDATE {} SET tenant_id = tenant_id").format(relation),
        sql.SQL("DELETE FROM {}").format(relation),
        sql.SQL("TRUNCATE {} CASCADE").format(relation),
        sql.SQL("WITH gone AS (DELETE FROM {} RETURNING 1) SELECT count(*) FROM gone").format(relation),
        # its own temp view (automatically updatable) and its own temp function over the table
        [sql.SQL("CREATE TEMP VIEW lb_route AS SELECT * FROM {}").format(relation),
         sql.SQL("UPDATE lb_route SET tenant_id = tenant_id")],
        [sql.SQL("CREATE TEMP VIEW lb_route AS SELECT * FROM {}").format(relation), sql.SQL("DELETE FROM lb_route")],
        [sql.SQL("CREATE FUNCTION pg_temp.lb_route() RETURNS void LANGUAGE sql AS $$ DELETE FROM {} $$").format(
            relation), sql.SQL("SELECT pg_temp.lb_route()")],
    ]


def _text(conn: psycopg.Connection, route: sql.Composable | list[sql.Composable]) -> str:
    return "; ".join(s.as_string(conn) for s in (route if isinstance(route, list) else [route]))


@pytest.mark.parametrize("state", GRANT_STATES)
@pytest.mark.parametrize("table", APPEND_ONLY)
def test_no_direct_or_own_route_changes_a_committed_row(world: World, state: str, table: str) -> None:
    conn = world.conn
    with rolled_back(conn):
        grant(conn, state)
        before = _committed_rows(conn)
        with acting_as(conn, world.a.tenant_id):
            results = [(_text(conn, r), attempt(conn, r)) for r in _routes(table)]
        after = _committed_rows(conn)
    assert {text: str(r) for text, r in results if r.sqlstate not in {"42501", "LB901"}} == {}
    assert after == before


@pytest.mark.parametrize("state", GRANT_STATES)
@pytest.mark.parametrize("view", LEDGER_VIEWS)
def test_no_view_changes_a_committed_row(world: World, state: str, view: str) -> None:
    conn = world.conn
    relation = qualified(view)
    with rolled_back(conn):
        grant(conn, state)
        before = _committed_rows(conn)
        with acting_as(conn, world.a.tenant_id):
            results = [attempt(conn, sql.SQL("UPDATE {} SET tenant_id = tenant_id").format(relation)),
                       attempt(conn, sql.SQL("DELETE FROM {}").format(relation)),
                       attempt(conn, sql.SQL("TRUNCATE {}").format(relation))]
        after = _committed_rows(conn)
    # 42501: not granted; 55000: the view is not updatable; 42809: TRUNCATE of a view is not a thing
    assert [r.sqlstate for r in results if r.sqlstate not in {"42501", "55000", "42809"}] == []
    assert after == before


@pytest.mark.parametrize("state", GRANT_STATES)
def test_no_function_changes_a_committed_row(world: World, state: str) -> None:
    """Every function of the application's schemas the role may execute in that state, called with the tenant's
    own arguments (NULL where no value is known), leaves every committed ledger and event-store row as it was."""
    conn = world.conn
    with rolled_back(conn):
        grant(conn, state)
        before = _committed_rows(conn)
        callable_now = {row[0] for row in conn.execute(
            "SELECT p.oid::regproc::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = ANY (%s) AND has_function_privilege(%s, p.oid, 'EXECUTE')",
            (list(APP_SCHEMAS), APP_ROLE))}
        called = []
        with acting_as(conn, world.a.tenant_id):
            for function in all_functions(CONTRACT):
                if function.name not in callable_now:
                    continue
                arguments = {p.name: None for p in function.parameters}
                try:
                    arguments.update(valid_arguments(function, world.a, required_only=False))
                except MissingArgument:  # an internal function: NULLs it is
                    pass
                called.append((function.name, attempt(conn, *call(function, arguments))))
        after = _committed_rows(conn)
    assert len(called) >= len(TENANT_FUNCTIONS)
    missing = {t: before[t] - after[t] for t in APPEND_ONLY if before[t] - after[t]}
    assert missing == {}, f"committed rows changed or gone after calling {[n for n, _ in called]}"


# --- SECURITY DEFINER, search_path, dynamic SQL --------------------------------------------------------------------

def security_definer_functions(conn: psycopg.Connection) -> list[tuple[str, list[str] | None, list | None]]:
    return conn.execute(
        "SELECT p.oid::regprocedure::text, p.proconfig, p.proacl::text[] FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.prosecdef AND n.nspname = ANY (%s) ORDER BY 1",
        (list(SCHEMAS),)).fetchall()


def search_path_problem(config: list[str] | None) -> str | None:
    """Why a SECURITY DEFINER function's configuration does not pin a safe search_path, or None."""
    setting = next((c.split("=", 1)[1] for c in config or [] if c.startswith("search_path=")), None)
    if setting is None:
        return "no SET search_path"
    path = [part.strip().strip('"') for part in setting.split(",")]
    if path[-1:] != ["pg_temp"]:
        return f"pg_temp is not listed last ({setting}): unlisted, it is searched first"
    unsafe = [p for p in path[:-1] if p not in ("pg_catalog", *SCHEMAS)]
    return f"searches schemas others may create objects in: {unsafe}" if unsafe else None


def test_every_security_definer_function_pins_a_safe_search_path(world: World) -> None:
    with rolled_back(world.conn):
        functions = security_definer_functions(world.conn)
        writable = world.conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY (%s) AND (has_schema_privilege(%s, oid, 'CREATE')"
            " OR has_schema_privilege('public', oid, 'CREATE'))", (["pg_catalog", *SCHEMAS], APP_ROLE)).fetchall()
    assert functions, "the schema documents SECURITY DEFINER functions: none found"
    assert {name: problem for name, config, _ in functions if (problem := search_path_problem(config))} == {}
    assert writable == []
    # Nobody but the granted role may run them: no PUBLIC entry, and no NULL acl (which means PUBLIC may).
    assert [name for name, _, acl in functions if acl is None or any(e.startswith("=") for e in acl)] == []


@pytest.mark.parametrize(("config", "problem"), [
    (None, "no SET search_path"),
    (["search_path=pg_catalog"], "pg_temp is not listed last"),
    (["search_path=public, pg_temp"], "searches schemas others may create objects in"),
])
def test_the_search_path_check_catches_unsafe_settings(config, problem) -> None:
    assert problem in search_path_problem(config)


_EXECUTE = re.compile(r"\bEXECUTE\s+(?!FUNCTION\b|PROCEDURE\b)(.+?)(?:\s+INTO\b|\s+USING\b|;)", re.I | re.S)


def dynamic_sql_problems(body: str) -> list[str]:
    """Dynamic statements that splice text unquoted: anything but ``format()`` with only %I, %L and %% (or a
    constant string), or any ``||`` concatenation."""
    problems = []
    for statement in _EXECUTE.findall(re.sub(r"--[^\n]*", "", body)):
        text = statement.strip()
        constant = re.fullmatch(r"'(?:[^']|'')*'", text)
        quoted_format = text.lower().startswith("format(") and not re.search(r"%(?!I|L|%)", text)
        if "||" in text or not (constant or quoted_format):
            problems.append(text[:120])
    return problems


def test_dynamic_sql_quotes_identifiers_and_literals(world: World) -> None:
    with rolled_back(world.conn):
        bodies = world.conn.execute(
            "SELECT p.oid::regprocedure::text, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = ANY (%s) AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'plpgsql')",
            (list(SCHEMAS),)).fetchall()
    assert bodies
    assert {name: problems for name, body in bodies if (problems := dynamic_sql_problems(body))} == {}


@pytest.mark.parametrize(("body", "flagged"), [
    ("BEGIN EXECUTE 'DELETE FROM t WHERE k = ' || p_key; END", True),
    ("BEGIN EXECUTE format('DELETE FROM %s WHERE k = %L', p_table, p_key); END", True),
    ("BEGIN EXECUTE format('DELETE FROM %I.%I WHERE k = %L', s, t, p_key) USING x; END", False),
    ("BEGIN EXECUTE 'SELECT 1' INTO n; END", False),
    ("CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();", False),
])
def test_the_dynamic_sql_check_catches_unquoted_splicing(body, flagged) -> None:
    assert bool(dynamic_sql_problems(body)) == flagged


def test_temp_objects_do_not_capture_security_definer_functions(world: World) -> None:
    """A session may create temp tables named like the schema's; the functions (pinned search_path, qualified
    names) still read and write the real ones."""
    conn, a = world.conn, world.a
    ghost = uuid.uuid4()
    with rolled_back(conn):
        with acting_as(conn, a.tenant_id):
            for name in ("tenants", "transactions", "ledger_entries", "inventory_items", "event_store"):
                conn.execute(sql.SQL("CREATE TEMP TABLE {} (id uuid, tenant_id uuid, status text, sku text)").format(
                    sql.Identifier(name)))
            conn.execute("INSERT INTO pg_temp.tenants (id, status) VALUES (%s, 'ACTIVE')", (ghost,))
            posted = attempt(conn, "SELECT finanzas.post_transaction(%s, %s::jsonb)",
                             (a.tenant_id, '[{"account_type": "CASH", "amount": 1, "direction": 1},'
                                           ' {"account_type": "REVENUE", "amount": 1, "direction": -1}]'))
            temp_rows = conn.execute("SELECT (SELECT count(*) FROM pg_temp.transactions)"
                                     " + (SELECT count(*) FROM pg_temp.ledger_entries)").fetchone()[0]
        real = conn.execute("SELECT count(*) FROM finanzas.ledger_entries WHERE transaction_id = %s",
                            (posted.rows[0][0] if posted.rows else None,)).fetchone()[0]
        ghost_call = attempt(conn, "SELECT * FROM stock.reserve_inventory(%s, 'SKU-1', 1, 1)", (ghost,))
    assert posted.error is None and real == 2 and temp_rows == 0
    assert ghost_call.sqlstate == "LB002"


# --- tenant isolation: every tenant table --------------------------------------------------------------------------

@pytest.mark.parametrize("table", TENANT_TABLES)
def test_a_session_bound_to_one_tenant_sees_and_changes_nothing_of_another(world: World, table: str) -> None:
    """Even with every DML privilege granted on every schema (all but TRUNCATE), leadboost_app bound to A reads
    only A's rows of the table, and its updates, deletes, moves and inserts of B's rows are refused or touch
    nothing: B's rows, in every table, are exactly as before. The owner still sees both tenants."""
    conn, a, b = world.conn, world.a, world.b
    column, relation = sql.Identifier(tenant_column(table)), qualified(table)
    with rolled_back(conn):
        conn.execute(GRANT_ALL_DML)
        before_b = data_fingerprint(conn, tenant_id=b.tenant_id)
        assert before_b[table][0] > 0, f"the world has no row of tenant B in {table}: add one in tenant_rows"
        with acting_as(conn, a.tenant_id):
            seen = attempt(conn, sql.SQL("SELECT DISTINCT {} FROM {}").format(column, relation))
            writes = {
                "update B's rows": attempt(conn, sql.SQL("UPDATE {r} SET {c} = {c} WHERE {c} = %s").format(
                    r=relation, c=column), (b.tenant_id,)),
                "delete B's rows": attempt(conn, sql.SQL("DELETE FROM {r} WHERE {c} = %s").format(
                    r=relation, c=column), (b.tenant_id,)),
                "move own rows to B": attempt(conn, sql.SQL("UPDATE {r} SET {c} = %s WHERE {c} = %s").format(
                    r=relation, c=column), (b.tenant_id, a.tenant_id)),
                "insert a row of B": attempt(conn, sql.SQL(
                    "INSERT INTO {r} OVERRIDING SYSTEM VALUE SELECT (jsonb_populate_record(NULL::{r},"
                    " to_jsonb(t) || jsonb_build_object({name}, %s::uuid))).* FROM {r} AS t LIMIT 1").format(
                    r=relation, name=sql.Literal(tenant_column(table))), (b.tenant_id,)),
            }
        after_b = data_fingerprint(conn, tenant_id=b.tenant_id)
        owner_sees = {row[0] for row in conn.execute(sql.SQL("SELECT DISTINCT {} FROM {}").format(column, relation))}
        may_insert = conn.execute("SELECT has_table_privilege(%s, %s, 'INSERT')", (APP_ROLE, table)).fetchone()[0]
    assert seen.error is None and {row[0] for row in seen.rows} == {a.tenant_id}
    for what, result in writes.items():
        if what.startswith(("update", "delete")):
            assert result.sqlstate in WRITE_REFUSALS or result.rowcount == 0, f"{what}: {result}"
        else:
            assert result.sqlstate in WRITE_REFUSALS, f"{what}: {result}"
    # A 42501 is row-level security's, unless the event trigger took INSERT back (the tables only functions write).
    insert = writes["insert a row of B"]
    assert insert.sqlstate != "42501" or "row-level security" in insert.message or not may_insert
    assert fingerprint_changes(before_b, after_b) == []
    assert {a.tenant_id, b.tenant_id} <= owner_sees


def test_every_tenant_table_has_row_level_security(world: World) -> None:
    with rolled_back(world.conn):
        unguarded = world.conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c WHERE c.oid = ANY (%s::regclass[])"
            " AND NOT (c.relrowsecurity AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))",
            (TENANT_TABLES,)).fetchall()
    assert unguarded == []


# --- tenant isolation: every public function ----------------------------------------------------------------------

@pytest.mark.parametrize("function", TENANT_FUNCTIONS, ids=lambda f: f.name)
def test_a_function_called_by_a_session_bound_to_one_tenant_changes_nothing_of_another(
        world: World, function: Function) -> None:
    """Bound to A, calling the function for B is refused (LB003), and calling it for A with B's object ids changes
    nothing of B either; the same arguments work for a session bound to B and for the (unbound) owner."""
    conn, a, b = world.conn, world.a, world.b
    for_b = valid_arguments(function, b)
    with rolled_back(conn):
        before = {t.tenant_id: data_fingerprint(conn, tenant_id=t.tenant_id) for t in (a, b)}
        with acting_as(conn, a.tenant_id):
            for_other = attempt(conn, *call(function, for_b))
            with_others_ids = attempt(conn, *call(function, {**for_b, "p_tenant_id": a.tenant_id}), undo=True)
        after_b = data_fingerprint(conn, tenant_id=b.tenant_id)
        after_a = data_fingerprint(conn, tenant_id=a.tenant_id)
        with acting_as(conn, b.tenant_id):
            as_b = attempt(conn, *call(function, for_b), undo=True)
        as_owner = attempt(conn, *call(function, for_b), undo=True)
    assert for_other.sqlstate == "LB003", for_other
    assert for_other.message == f"session is bound to tenant {a.tenant_id} and cannot act for tenant {b.tenant_id}"
    assert with_others_ids.sqlstate != "LB003", with_others_ids
    assert fingerprint_changes(before[b.tenant_id], after_b) == []
    assert fingerprint_changes(before[a.tenant_id], after_a) == []
    assert as_b.error is None, as_b
    assert as_owner.error is None, as_owner

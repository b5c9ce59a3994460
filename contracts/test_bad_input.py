"""Bad input, generated: every public function and every table a client may write gets invalid values (NULLs,
zero/negative amounts and quantities, unknown tenants/skus/streams/sagas/keys, malformed, non-object or oversized
JSON, overlong text, unparsable text for typed parameters, unbalanced and cross-tenant postings, illegal state
transitions, other tenants' bindings), and each call is answered as schema/README.md documents — its SQLSTATE and a
message of the documented shape naming the offending value, or the documented "no change" row — and not one row
of any table of the seven schemas changes (catalog-wide row count + checksum, ``data_fingerprint``).

Cheap isolation: one database per module with a committed world (tenants A and B with rows in every tenant table,
and a SUSPENDED tenant); each example is one transaction that is rolled back, its call in a savepoint.
The classes of bad input are data (contracts/bad_calls.py, contracts/bad_rows.py); each is one test item, so every
class is tried on every run, with a few generated examples each (the Hypothesis profile's max_examples / 13).
"""
from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st
from psycopg import sql

from contracts import bad_calls
from contracts.bad_calls import (
    BINDINGS,
    INACTIVE_TENANT_OK,
    TENANT_SETUPS,
    BadArgument,
    Refused,
    World,
    bad_arguments,
    binding_value,
    session_outcome,
    tenant_value,
)
from contracts.bad_rows import (
    BOUNDED_CHECK,
    CHECKS,
    CONTRACT,
    EDGES,
    HEADER,
    NEW_SAGA,
    TRIGGER_FILLED,
    WRITABLE_TABLES,
    BadRow,
    bad_rows,
    base_row,
    column_value,
    sql_type,
    unique_keys,
)
from contracts.test_catalog import APP_SCHEMAS
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.paths import schema_dir
from leadboost_schema.server import Server
from leadboost_schema.testing.attempts import Attempt, acting_as, attempt, rolled_back
from leadboost_schema.testing.data_fingerprint import (
    Fingerprint,
    data_fingerprint,
    fingerprint_changes,
    fingerprint_query,
)
from leadboost_schema.testing.factories import make_tenant
from leadboost_schema.testing.public_api import (
    Function,
    app_functions,
    call,
    public_functions,
    valid_arguments,
)
from leadboost_schema.testing.tenant_rows import make_tenant_rows

FUNCTIONS = public_functions(CONTRACT)
APP_EXECUTABLE = {f.name for f in app_functions(CONTRACT)}
PER_CLASS = settings(max_examples=max(2, settings.default.max_examples // 13), deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- what schema/README.md documents ------------------------------------------------------------------------------

def _shape_pattern(shape: str) -> re.Pattern[str]:
    """A message shape of the error table as a regex: <x> and '<x>' are any value, … is anything, A/B/C are
    alternatives, a lone capital letter (A → B) is any word."""
    token = re.compile(r"'<[^>]+>'|<[^>]+>|…|\b[A-Z]+(?:/[A-Z]+)+\b|\b[A-Z]\b")
    parts, last = [], 0
    for match in token.finditer(shape):
        parts.append(re.escape(shape[last:match.start()]))
        text = match.group()
        if text.startswith("'<"):
            parts.append(r"E?'.*'")
        elif text.startswith("<") or len(text) == 1 and text != "…":
            parts.append(r".+")
        elif text == "…":
            parts.append(r".*")
        else:
            parts.append("(?:" + "|".join(text.split("/")) + ")")
        last = match.end()
    parts.append(re.escape(shape[last:]))
    return re.compile("".join(parts), re.S)


def documented_messages(readme_text: str) -> dict[str, list[re.Pattern[str]]]:
    """SQLSTATE → the message shapes of schema/README.md's error table."""
    table = {}
    for code, cell in re.findall(r"^\| (LB\d{3}) \| \w+ \| (.+?) \| [^|]+ \|$", readme_text, flags=re.M):
        table[code] = [_shape_pattern(shape) for shape in re.findall(r"`([^`]+)`", cell)]
    return table


def documented_postgres_codes(readme_text: str) -> set[str]:
    """The SQLSTATEs the README says PostgreSQL itself raises (the paragraph after the error table)."""
    paragraph = readme_text[readme_text.index("Raised by PostgreSQL itself"):]
    paragraph = paragraph.split("\n\n", 1)[0]
    return set(re.findall(r"`(\d{2}[0-9A-Z]{3})`", paragraph))


README = (schema_dir() / "README.md").read_text(encoding="utf-8")
MESSAGES = documented_messages(README)
POSTGRES_CODES = documented_postgres_codes(README)


def refusal_problem(result: Attempt, expected: Refused) -> str | None:
    """Why ``result`` is not the documented refusal, or None."""
    if result.error is None:
        return f"expected {expected.sqlstate}, the call succeeded: {result}"
    message = result.message
    if result.sqlstate != expected.sqlstate:
        return f"expected {expected.sqlstate} ({expected.names}), got {result}"
    if expected.names not in message:
        return f"the message does not say {expected.names!r}: {result}"
    if result.sqlstate.startswith("LB"):
        shapes = MESSAGES.get(result.sqlstate)
        if not shapes:
            return f"{result.sqlstate} is not in schema/README.md's error table"
        if not any(shape.search(message) for shape in shapes):
            return f"the message has none of the documented shapes of {result.sqlstate}: {message!r}"
    elif result.sqlstate not in POSTGRES_CODES:
        return f"{result.sqlstate} is not documented in schema/README.md: {message!r}"
    return None


# --- the world ----------------------------------------------------------------------------------------------------

@dataclass
class WorldDb:
    conn: psycopg.Connection  # one rolled-back transaction per example (rolled_back)
    world: World
    query: sql.Composed
    fingerprint: Fingerprint


@pytest.fixture(scope="module")
def world_db(leadboost_server: Server, leadboost_template: str) -> Iterator[WorldDb]:
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as setup:
            world = World(make_tenant_rows(setup), make_tenant_rows(setup), make_tenant(setup, status="SUSPENDED"))
        with psycopg.connect(dsn, autocommit=True) as conn:
            query = fingerprint_query(conn)
            fingerprint = data_fingerprint(conn, query=query)
            yield WorldDb(conn, world, query, fingerprint)


def changes(db: WorldDb) -> list[str]:
    return fingerprint_changes(db.fingerprint, data_fingerprint(db.conn, query=db.query))


# --- functions ----------------------------------------------------------------------------------------------------

def _session_needed(function: Function) -> bool:
    return function.takes_tenant or function.name not in APP_EXECUTABLE


CASES = [(f, a) for f in FUNCTIONS for a in bad_arguments(f)] + [(f, None) for f in FUNCTIONS if _session_needed(f)]


def _weighted(options: tuple[str, ...], favourite: str, weight: int) -> st.SearchStrategy[str]:
    return st.sampled_from([favourite] * weight + [o for o in options if o != favourite])


@pytest.mark.parametrize(("function", "bad"), CASES,
                         ids=[f"{f.name}:{a.label if a else 'session and tenant'}" for f, a in CASES])
@PER_CLASS
@given(data=st.data())
def test_a_bad_call_gets_its_documented_answer_and_changes_nothing(world_db: WorldDb, function: Function,
                                                                   bad: BadArgument | None, data) -> None:
    """Invariant: for any session (owner or leadboost_app, any binding), tenant and one bad argument, the first
    documented refusal in the documented order is raised (SQLSTATE + message shape), or the documented no-change
    row is returned; either way no table's rows change."""
    w = world_db.world
    role = data.draw(st.sampled_from(["owner", "app"]), label="role")
    favour = 1 if bad is None else 6  # a bad argument is mostly tried with a sound session and tenant
    tenants = tuple(t for t in TENANT_SETUPS if not (t == "suspended tenant" and function.name in INACTIVE_TENANT_OK))
    tenant = data.draw(_weighted(tenants, "tenant A", favour), label="tenant") if function.takes_tenant else "tenant A"
    binding = data.draw(_weighted(BINDINGS if function.takes_tenant else ("the tenant itself", "unbound"),
                                  "the tenant itself", favour), label="binding")
    value = tenant_value(w, tenant, data.draw(st.uuids(version=4)), data.draw(bad_calls._garbage))
    bound = binding_value(w, binding, value, data.draw(bad_calls._garbage))
    overrides = data.draw(bad.values(w), label="bad argument") if bad else {}
    if bad is not None and bad.binding is not None:
        binding, bound = "malformed", data.draw(bad.binding(w))
    argument_outcome = bad.outcome(overrides) if bad else None
    overrides.pop("__leg__", None)
    arguments = valid_arguments(function, w.a)
    if function.takes_tenant:
        arguments["p_tenant_id"] = value
    arguments.update(overrides)

    session = session_outcome(function, function.name in APP_EXECUTABLE, role, tenant, binding, value)
    # Arguments PostgreSQL cannot parse are refused first, in parameter order (p_tenant_id comes first) — unless
    # the role may not use the function's schema: that is refused while the call's name is looked up, earlier.
    schema_denied = role == "app" and function.name.split(".")[0] not in APP_SCHEMAS
    unparsable = [] if schema_denied else [
        o for o in (session, argument_outcome) if isinstance(o, Refused) and o.stage == "input"]
    expected = unparsable[0] if unparsable else session or argument_outcome
    if expected is None:
        reject()  # a sound call: not bad input
    event(f"{'session' if expected is session else 'argument'}: "
          f"{expected.sqlstate if isinstance(expected, Refused) else 'no change'}")

    conn = world_db.conn
    with rolled_back(conn):
        if role == "app":
            with acting_as(conn, bound):
                result = attempt(conn, *call(function, arguments))
        else:
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", (bound or "",))
            result = attempt(conn, *call(function, arguments))
            conn.execute("SELECT set_config('app.tenant_id', '', true)")
        changed = changes(world_db)
    story = f"{function.name} as {role} ({binding}, {tenant}) with {_brief(overrides)}"
    if isinstance(expected, Refused):
        assert refusal_problem(result, expected) is None, f"{story}: {refusal_problem(result, expected)}"
    else:
        assert result.error is None and expected.check(result.rows), f"{story}: expected {expected.description}, got {result}"
    assert changed == [], f"{story}: rows changed: {changed}"


def _brief(overrides: dict) -> str:
    return ", ".join(f"{k}={str(v)[:60]}{'…' if len(str(v)) > 60 else ''}" for k, v in overrides.items()) or "no bad argument"


def test_every_public_function_gets_bad_input() -> None:
    covered = {f.name for f, _ in CASES}
    assert covered == {f.name for f in FUNCTIONS}
    assert {"finanzas.post_transaction", "sys.cleanup_expired_request_keys", "migration.validate_migrated_data",
            "events.cleanup_old_snapshots"} <= covered


@pytest.mark.parametrize(("shape", "message", "matches"), [
    ("unknown sku '<sku>' for tenant <t>", "unknown sku E'a\\\\b' for tenant 1", True),
    ("idempotency key '<k>' is already COMPLETED/FAILED", "idempotency key 'k' is already FAILED", True),
    ("saga <id>: illegal state transition A → B", "saga 1: illegal state transition RUNNING → RUNNING", True),
    ("p_legs must be a JSON array of legs", "p_legs must be an array", False),
])
def test_message_shapes_read_as_documented(shape, message, matches) -> None:
    assert bool(_shape_pattern(shape).search(message)) == matches


def test_a_direction_written_1_0_is_the_number_1(world_db: WorldDb) -> None:
    """JSON 1.0 and 1 are the same number: such a leg is posted, not refused with a smallint cast error."""
    conn, tenant = world_db.conn, world_db.world.a.tenant_id
    legs = '[{"account_type": "CASH", "amount": 5, "direction": 1.0}, {"account_type": "REVENUE", "amount": 5, "direction": -1.00}]'
    with rolled_back(conn):
        posted = attempt(conn, "SELECT finanzas.post_transaction(%s, %s::jsonb)", (tenant, legs))
        directions = conn.execute("SELECT array_agg(direction ORDER BY direction) FROM finanzas.ledger_entries"
                                  " WHERE transaction_id = %s", (posted.rows[0][0] if posted.rows else None,)).fetchone()
    assert posted.error is None, posted
    assert directions == ([-1, 1],)


# --- tables -------------------------------------------------------------------------------------------------------

ROWS = bad_rows()
_tokens = itertools.count()


def insert(table: str, row: dict[str, Any]) -> sql.Composed:
    columns = list(row)
    return sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(*table.split(".")), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.SQL("({})::{}").format(sql.Literal(column_value(table, c, row[c])),
                                                    sql.SQL(sql_type(table, c))) for c in columns))


def setup_for(table: str, world: World) -> list[sql.Composed]:
    """Statements a row of ``table`` needs first in the same transaction (a leg needs its open posting)."""
    if table != "finanzas.ledger_entries":
        return []
    return [insert("finanzas.transactions", {"id": HEADER, "tenant_id": world.a.tenant_id, "currency": "EUR"})]


def copied_row(conn: psycopg.Connection, table: str, key: tuple[str, ...], base: dict[str, Any],
               world: World) -> dict[str, Any]:
    """An existing row of tenant A with the same ``key``; its other unique columns (and identity and trigger-set
    columns) taken from ``base`` or left to their defaults, so only ``key`` repeats."""
    column = "id" if table == "iam.tenants" else "tenant_id"
    existing = conn.execute(sql.SQL("SELECT to_jsonb(t) FROM {} AS t WHERE {} = %s AND {} LIMIT 1").format(
        sql.Identifier(*table.split(".")), sql.Identifier(column),
        sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(k)) for k in key)),
        (world.a.tenant_id,)).fetchone()[0]
    others = {c for name, cs in unique_keys(table).items() for c in cs} - set(key)
    row = {}
    for name, value in existing.items():
        spec = next(c for c in CONTRACT["tables"][table]["columns"] if c["name"] == name)
        if spec["identity"] or (table, name) in TRIGGER_FILLED:
            continue
        if name in others:
            if name in base:
                row[name] = base[name]
            continue
        row[name] = value
    return row


@pytest.mark.parametrize("bad", ROWS, ids=[f"{b.table}:{b.label}" for b in ROWS])
@PER_CLASS
@given(data=st.data())
def test_a_bad_row_is_refused_as_documented_and_changes_nothing(world_db: WorldDb, bad: BadRow, data) -> None:
    """Invariant: an INSERT of the table's valid base row with one bad value (or a repeated unique key) is refused
    with the documented SQLSTATE (and names the constraint it breaks), and no table's rows change."""
    w, conn = world_db.world, world_db.conn
    row = base_row(bad.table, w, f"{next(_tokens)}")
    overrides = data.draw(bad.values(w), label="bad values")
    key = overrides.pop("__copy__", None)
    with rolled_back(conn):
        if key:
            row = copied_row(conn, bad.table, key, row, w)
        row.update(overrides)
        result = attempt(conn, [*setup_for(bad.table, w), insert(bad.table, row)])
        changed = changes(world_db)
    story = f"INSERT INTO {bad.table} with {_brief(overrides or {'repeated': key})}"
    assert refusal_problem(result, bad.expect) is None, f"{story}: {refusal_problem(result, bad.expect)}"
    if bad.expect.sqlstate.startswith("23") and bad.constraints:
        # a repeated key repeats every unique key made of its columns: PostgreSQL reports one of them
        reported = bad.constraints | {n for n, cs in unique_keys(bad.table).items() if key and set(cs) <= set(key)}
        assert result.error.diag.constraint_name in reported, f"{story}: {result}"
    if bad.expect.sqlstate == "23502":
        assert result.error.diag.column_name == bad.label.removeprefix("NULL "), f"{story}: {result}"
    assert changed == [], f"{story}: rows changed: {changed}"


@pytest.mark.parametrize("table", sorted(WRITABLE_TABLES))
def test_every_base_row_is_accepted(world_db: WorldDb, table: str) -> None:
    """The bad rows are the base rows plus one bad value: the base row itself must be fine."""
    conn, w = world_db.conn, world_db.world
    with rolled_back(conn):
        result = attempt(conn, [*setup_for(table, w), insert(table, base_row(table, w, "base"))])
    assert result.error is None, result


@pytest.mark.parametrize(("constraint", "edge"), [(c, e) for c, edges in EDGES.items() for e in edges],
                         ids=[f"{c}:{i}" for c, edges in EDGES.items() for i, _ in enumerate(edges)])
def test_a_value_on_the_edge_of_a_range_is_accepted(world_db: WorldDb, constraint: str, edge: dict) -> None:
    """The last values each bounded CHECK lets in are accepted: with the bad rows just outside, a bound moved by one
    in either direction fails one of the two."""
    conn, w = world_db.conn, world_db.world
    table = next(t for t, spec in WRITABLE_TABLES.items() if constraint in spec["constraints"])
    saga = [insert("sys.sagas", {**base_row("sys.sagas", w, "edge"), "id": NEW_SAGA})] if NEW_SAGA in edge.values() \
        else []
    with rolled_back(conn):
        result = attempt(conn, [*setup_for(table, w), *saga, insert(table, {**base_row(table, w, "edge"), **edge})])
    assert result.error is None, f"{table} refused an edge value {_brief(edge)}: {result}"


def test_every_bounded_check_has_its_edges() -> None:
    bounded = {n for spec in WRITABLE_TABLES.values() for n, c in spec["constraints"].items()
               if c["type"] == "CHECK" and BOUNDED_CHECK.search(c["definition"])}
    assert bounded - set(EDGES) == set(), "add the accepted edge values to contracts.bad_rows.EDGES"


def test_every_constraint_and_table_has_bad_rows() -> None:
    checks = {n for spec in WRITABLE_TABLES.values() for n, c in spec["constraints"].items() if c["type"] == "CHECK"}
    assert checks - set(CHECKS) == set(), "add a violating value to contracts.bad_rows.CHECKS"
    assert {b.table for b in ROWS} == set(WRITABLE_TABLES)
    foreign = {n for spec in WRITABLE_TABLES.values() for n, c in spec["constraints"].items()
               if c["type"] == "FOREIGN KEY"}
    assert foreign <= {n for b in ROWS for n in b.constraints}


# --- writes that break a rule a trigger keeps: direct postings, state transitions, immutable rows -------------

def _posting(world: World, legs: list[tuple[str, int, int]]) -> list[sql.Composed]:
    header = uuid.uuid4()
    return [insert("finanzas.transactions", {"id": header, "tenant_id": world.a.tenant_id, "currency": "EUR"}),
            *[insert("finanzas.ledger_entries", {"tenant_id": world.a.tenant_id, "transaction_id": header,
                                                 "account_type": a, "amount": m, "direction": d, "currency": "EUR"})
              for a, m, d in legs],
            sql.SQL("SET CONSTRAINTS ALL IMMEDIATE")]  # the commit-time check, now


def _update(table: str, assignments: str, key: str, value: Any) -> sql.Composed:
    return sql.SQL("UPDATE {} SET {} WHERE {} = {}").format(sql.Identifier(*table.split(".")), sql.SQL(assignments),
                                                           sql.Identifier(key), sql.Literal(value))


_ILLEGAL_SAGA = [("saga_compensating", "state = 'RUNNING', failed_step = NULL"),
                 ("saga_compensating", "state = 'COMPLETED', failed_step = NULL, completed_at = now()"),
                 ("saga_completed", "state = 'RUNNING', completed_at = NULL"),
                 ("saga_completed", "updated_at = now()"), ("saga_failed", "failure_reason = 'other'"),
                 ("saga_failed", "state = 'COMPENSATING', completed_at = NULL")]
_ILLEGAL_STEP = [("saga_running", 1, "status = 'PENDING', succeeded_at = NULL"),
                 ("saga_running", 1, "status = 'FAILED', succeeded_at = NULL, failed_at = now()"),
                 ("saga_running", 2, "status = 'COMPENSATED', succeeded_at = now(), compensated_at = now()"),
                 ("saga_running", 2, "error = 'x'"),
                 ("saga_compensating", 3, "status = 'PENDING', failed_at = NULL"),
                 ("saga_failed", 1, "status = 'SUCCEEDED', failed_at = NULL, succeeded_at = now()")]
STATEMENTS: list[tuple[str, Callable[[World], st.SearchStrategy[list[sql.Composable]]], Refused]] = [
    ("an unbalanced posting written directly", lambda w: st.tuples(st.integers(1, 10**6), st.integers(1, 10**6)).filter(
        lambda t: t[0] != t[1]).map(lambda t: _posting(w, [("CASH", t[0], 1), ("REVENUE", t[1], -1)])),
     Refused("LB105", "is unbalanced: SUM(amount * direction) = ")),
    ("a posting of fewer than 2 legs written directly", lambda w: st.integers(0, 1).map(
        lambda n: _posting(w, [("CASH", 10, 1)] * n)), Refused("LB106", "at least 2 are required")),
    ("an illegal saga transition", lambda w: st.sampled_from(_ILLEGAL_SAGA).map(
        lambda c: [_update("sys.sagas", c[1], "id", getattr(w.a, c[0]))]), Refused("LB502", "saga ")),
    ("an illegal step transition", lambda w: st.sampled_from(_ILLEGAL_STEP).map(lambda c: [sql.SQL(
        "UPDATE sys.saga_steps SET {} WHERE saga_id = {} AND step_index = {}").format(
        sql.SQL(c[2]), sql.Literal(getattr(w.a, c[0])), sql.Literal(c[1]))]), Refused("LB502", "step ")),
    ("a saga's identity changed", lambda w: st.sampled_from(["saga_type = 'other'", "step_count = 5",
                                                             f"tenant_id = '{w.b.tenant_id}'"]).map(
        lambda a: [_update("sys.sagas", a, "id", w.a.saga_running)]), Refused("LB502", "cannot change")),
    ("an item's identity changed", lambda w: st.sampled_from(["sku = 'OTHER-1'", "id = gen_random_uuid()",
                                                              f"tenant_id = '{w.b.tenant_id}'"]).map(
        lambda a: [sql.SQL("UPDATE stock.inventory_items SET {} WHERE tenant_id = {}").format(
            sql.SQL(a), sql.Literal(w.a.tenant_id))]), Refused("LB203", "id, tenant_id and sku cannot change")),
    ("a stored balance written directly", lambda w: st.sampled_from([
        "UPDATE finanzas.account_balance_shards SET total_debits = total_debits + 1",
        "UPDATE finanzas.account_balance_shards SET shard = shard + 1", "DELETE FROM finanzas.account_balance_shards",
        "TRUNCATE finanzas.account_balance_shards",
        "INSERT INTO finanzas.account_balance_shards (tenant_id, account_type, currency, shard, total_debits,"
        f" entry_count, last_posted_at) VALUES ('{w.a.tenant_id}', 'CASH', 'EUR', -1, 5, 1, now())",
        "INSERT INTO finanzas.account_balance_shards SELECT tenant_id, account_type, currency, shard + 1,"
        " total_debits, total_credits, entry_count, last_posted_at FROM finanzas.account_balance_shards"]).map(
        lambda s: [sql.SQL(s)]), Refused("LB112", "is maintained by the ledger")),
    ("a ledger or event row updated, deleted or truncated", lambda w: st.sampled_from([
        "UPDATE finanzas.ledger_entries SET amount = amount + 1", "DELETE FROM finanzas.transactions",
        "TRUNCATE finanzas.ledger_entries CASCADE", "UPDATE events.event_store SET payload = '{}'",
        "DELETE FROM events.event_store", "UPDATE events.snapshots SET state = '{}'"]).map(lambda s: [sql.SQL(s)]),
     Refused("LB901", "is append-only")),
]


@pytest.mark.parametrize(("label", "statements", "expect"), STATEMENTS, ids=[s[0] for s in STATEMENTS])
@PER_CLASS
@given(data=st.data())
def test_a_write_breaking_a_trigger_rule_is_refused_and_changes_nothing(world_db: WorldDb, label, statements,
                                                                        expect, data) -> None:
    """Invariant: direct writes that break a rule the triggers keep (balanced postings of 2+ legs, saga and step
    transitions, immutable identities, append-only tables) are refused as documented and change nothing."""
    conn = world_db.conn
    batch = data.draw(statements(world_db.world), label="statements")
    with rolled_back(conn):
        result = attempt(conn, batch)
        changed = changes(world_db)
    story = f"{label}: {'; '.join(s.as_string(conn) for s in batch)[:300]}"
    assert refusal_problem(result, expect) is None, f"{story}: {refusal_problem(result, expect)}"
    assert changed == [], f"{story}: rows changed: {changed}"


def test_a_tenant_with_data_cannot_be_deleted(world_db: WorldDb) -> None:
    conn = world_db.conn
    with rolled_back(conn):
        result = attempt(conn, "DELETE FROM iam.tenants WHERE id = %s", (world_db.world.a.tenant_id,))
        changed = changes(world_db)
    # ON DELETE RESTRICT: 23503 up to PostgreSQL 17, 23001 restrict_violation from 18 (both documented)
    code = "23001" if conn.info.server_version >= 180000 else "23503"
    assert refusal_problem(result, Refused(code, 'update or delete on table "tenants"')) is None, result
    assert changed == []

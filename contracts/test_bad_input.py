"""Bad input, generated: every public function and every table a client may write gets invalid values (NULLs,
zero/negative amounts and quantities, unknown tenants/skus/streams/sagas/keys, malformed, non-object or oversized
JSON, overlong text, unparsable text for typed parameters, unbalanced and cross-tenant postings, illegal state
transitions, other tenants' bindings), and each call is answered as schema/README.md documents — its SQLSTATE and a
message of the documented shape naming the offending value, or the documented "no change" row — and not one row
of any table of the seven schemas changes (catalog-wide row count + checksum, ``data_fingerprint``).

Cheap isolation: one database per module with a committed world (tenants A and B with rows in every tenant table,
and a SUSPENDED tenant); each example is one transaction that is rolled back, its call in a savepoint.
The classes of bad input are data (contracts/bad_calls.py, contracts/bad_rows.py); each is one test item, so every
class is tried on every run, with a few generated examples each (the Hypothesis profile's max_examples / 8).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

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
from leadboost_schema.attempts import Attempt, acting_as, attempt, rolled_back
from leadboost_schema.catalog import load_contract
from leadboost_schema.clones import fresh_database
from leadboost_schema.data_fingerprint import (
    Fingerprint,
    data_fingerprint,
    fingerprint_changes,
    fingerprint_query,
)
from leadboost_schema.factories import make_tenant
from leadboost_schema.paths import schema_dir
from leadboost_schema.public_api import Function, app_functions, call, public_functions, valid_arguments
from leadboost_schema.server import Server
from leadboost_schema.tenant_rows import make_tenant_rows

CONTRACT = load_contract()
FUNCTIONS = public_functions(CONTRACT)
APP_EXECUTABLE = {f.name for f in app_functions(CONTRACT)}
PER_CLASS = settings(max_examples=max(3, settings.default.max_examples // 8), deadline=None,
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
    conn: psycopg.Connection  # does not autocommit: one transaction per example, rolled back
    world: World
    query: sql.Composed
    fingerprint: Fingerprint


@pytest.fixture(scope="module")
def world_db(leadboost_server: Server, leadboost_template: str) -> Iterator[WorldDb]:
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as setup:
            world = World(make_tenant_rows(setup), make_tenant_rows(setup), make_tenant(setup, status="SUSPENDED"))
        with psycopg.connect(dsn) as conn:
            query = fingerprint_query(conn)
            fingerprint = data_fingerprint(conn, query=query)
            conn.rollback()
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
    # Arguments PostgreSQL cannot parse are refused first, in parameter order (p_tenant_id comes first).
    unparsable = [o for o in (session, argument_outcome) if isinstance(o, Refused) and o.stage == "input"]
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

"""The clock belongs to the owner (issue 17.2): every function that takes ``p_now`` honours a chosen time only for an
unrestricted calling role; ``leadboost_app`` may leave it out or pass ``now()`` and gets LB007 for anything else —
before anything is read or written — with and without the document's troubleshooting GRANT block. A non-finite or
out-of-range ``p_now`` is LB008 for everyone.

The functions come from the catalog contract (every public function with a ``p_now`` parameter), so a new one is covered
without an edit.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from contracts.test_document_queries import GRANT_APP, run
from leadboost_schema.catalog.snapshot import load_contract
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.server import Server
from leadboost_schema.testing.attempts import acting_as, attempt, rolled_back
from leadboost_schema.testing.data_fingerprint import data_fingerprint, fingerprint_changes
from leadboost_schema.testing.public_api import Function, call, public_functions, valid_arguments
from leadboost_schema.testing.tenant_rows import TenantRows, make_tenant_rows

CONTRACT = load_contract()
CLOCK_FUNCTIONS = [f for f in public_functions(CONTRACT) if any(p.name == "p_now" for p in f.parameters)]
GRANT_STATES = ["as the schema grants", "after the troubleshooting GRANT block"]
# Times the application might try: the past (a kill switch not yet in force), the future (a new spend window, an
# expired lease, an expired key), and the far future.
CHOSEN_TIMES = ["now() - interval '1 hour'", "now() + interval '6 minutes'", "now() + interval '25 hours'",
                "'9999-12-30'::timestamptz"]
NOT_A_CLOCK = ["'infinity'", "'-infinity'", "'10000-01-01'", "'1969-12-31 23:59:59+00'"]


@dataclass
class World:
    conn: psycopg.Connection
    a: TenantRows


@pytest.fixture(scope="module")
def world(leadboost_server: Server, leadboost_template: str) -> Iterator[World]:
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as setup:
            a = make_tenant_rows(setup)
        with psycopg.connect(dsn, autocommit=True) as conn:
            yield World(conn, a)


def _call_with_clock(conn: psycopg.Connection, function: Function, rows: TenantRows, clock: str | None):
    """The function called with valid arguments and ``p_now => <clock>`` (an SQL expression; None: left out)."""
    statement, params = call(function, valid_arguments(function, rows))
    if clock is not None:
        text = statement.as_string(conn)
        statement = text[:-1] + ("" if text.endswith("()") else ", ") + f"p_now => {clock})"
        statement = statement.replace("(, ", "(")
    return attempt(conn, statement, params)


def test_the_clock_functions_are_the_documented_ones() -> None:
    assert {f.name for f in CLOCK_FUNCTIONS} == {
        "gobernanza.validate_action", "gobernanza.record_action_outcome", "sys.claim_request_key",
        "sys.complete_request_key", "sys.fail_request_key", "sys.cleanup_expired_request_keys"}


@pytest.mark.parametrize("state", GRANT_STATES)
@pytest.mark.parametrize("clock", CHOSEN_TIMES)
@pytest.mark.parametrize("function", CLOCK_FUNCTIONS, ids=lambda f: f.name)
def test_the_application_cannot_choose_the_time(world: World, function: Function, clock: str, state: str) -> None:
    """Invariant: bound to its own tenant, leadboost_app calling a clock function with any p_now but now() is
    refused (LB007, or 42501 where it may not execute the function at all) and no row of any table changes."""
    conn = world.conn
    with rolled_back(conn):
        if state != GRANT_STATES[0]:
            run(conn, GRANT_APP)
        before = data_fingerprint(conn)
        may_execute = conn.execute("SELECT has_function_privilege('leadboost_app', %s::regproc, 'EXECUTE')",
                                   (function.name,)).fetchone()[0]
        with acting_as(conn, world.a.tenant_id):
            result = _call_with_clock(conn, function, world.a, clock)
        after = data_fingerprint(conn)
    assert result.sqlstate == ("LB007" if may_execute else "42501"), result
    if may_execute:
        assert result.message.startswith("p_now is the real clock for role leadboost_app"), result
    assert fingerprint_changes(before, after) == []


@pytest.mark.parametrize("clock", [None, "now()"])
@pytest.mark.parametrize("function", [f for f in CLOCK_FUNCTIONS if f.name != "sys.cleanup_expired_request_keys"],
                         ids=lambda f: f.name)
def test_the_application_runs_on_the_real_clock(world: World, function: Function, clock: str | None) -> None:
    """Leaving p_now out, or passing now() (what the default gives), is the real clock: not refused."""
    conn = world.conn
    with rolled_back(conn), acting_as(conn, world.a.tenant_id):
        result = _call_with_clock(conn, function, world.a, clock)
    assert result.error is None, result


@pytest.mark.parametrize("function", CLOCK_FUNCTIONS, ids=lambda f: f.name)
def test_the_owner_chooses_the_time(world: World, function: Function) -> None:
    """The owner (unrestricted) may move the clock: tests drive leases, windows and expiry that way."""
    conn = world.conn
    with rolled_back(conn):
        result = _call_with_clock(conn, function, world.a, "now() + interval '25 hours'")
    assert result.error is None, result


@pytest.mark.parametrize("role", ["owner", "leadboost_app"])
@pytest.mark.parametrize("clock", NOT_A_CLOCK)
@pytest.mark.parametrize("function", CLOCK_FUNCTIONS, ids=lambda f: f.name)
def test_a_time_outside_the_calendar_is_refused_for_everyone(world: World, function: Function, clock: str,
                                                             role: str) -> None:
    conn = world.conn
    with rolled_back(conn):
        run(conn, GRANT_APP)  # so leadboost_app may execute every one of them
        before = data_fingerprint(conn)
        if role == "owner":
            result = _call_with_clock(conn, function, world.a, clock)
        else:
            with acting_as(conn, world.a.tenant_id):
                result = _call_with_clock(conn, function, world.a, clock)
        after = data_fingerprint(conn)
    assert result.sqlstate == "LB008", result
    assert "p_now must be a finite time from 1970-01-01 to 9999-12-31" in result.message
    assert fingerprint_changes(before, after) == []


def test_the_issue_s_attacks_on_the_clock_change_nothing(world: World) -> None:
    """The attacks of issue 17.2, as leadboost_app: skipping a live kill switch by answering from the past, and
    spending a 100-per-hour cap ten times by moving into later windows — both refused, the cap's counter as before."""
    conn, a = world.conn, world.a
    with rolled_back(conn):
        consumed = "SELECT window_consumed FROM gobernanza.policies WHERE tenant_id = %s AND name = 'spend'"
        before = conn.execute(consumed, (a.tenant_id,)).fetchone()
        with acting_as(conn, a.tenant_id):
            kill = attempt(conn, "SELECT * FROM gobernanza.validate_action(%s, 'ads.kill', 0,"
                                 " now() - interval '10 years')", (a.tenant_id,))
            spends = [attempt(conn, "SELECT * FROM gobernanza.validate_action(%s, 'ads.spend', 100,"
                                    " now() + make_interval(days => %s))", (a.tenant_id, k)) for k in range(1, 11)]
            honest = attempt(conn, "SELECT * FROM gobernanza.validate_action(%s, 'ads.kill', 0)", (a.tenant_id,))
        after = conn.execute(consumed, (a.tenant_id,)).fetchone()
    assert kill.sqlstate == "LB007"
    assert {s.sqlstate for s in spends} == {"LB007"}
    assert honest.rows is not None and honest.rows[0][0] is False and honest.rows[0][2] == "KILL_SWITCH"
    assert after == before

"""A tenant that is not ACTIVE — SUSPENDED or CLOSED — is refused (LB004) by every writing function of the public
API, whoever calls, and nothing changes; the documented exceptions (reads, snapshots, reports on sagas already
running) keep working for it."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from contracts.bad_calls import INACTIVE_TENANT_OK
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.server import Server
from leadboost_schema.testing.attempts import acting_as, attempt, rolled_back
from leadboost_schema.testing.data_fingerprint import data_fingerprint, fingerprint_changes
from leadboost_schema.testing.public_api import (
    APP_ROLE,
    Function,
    app_functions,
    call,
    public_functions,
    valid_arguments,
)
from leadboost_schema.testing.tenant_rows import TenantRows, make_tenant_rows

TENANT_FUNCTIONS = [f for f in public_functions() if f.takes_tenant]
WRITING = [f for f in TENANT_FUNCTIONS if f.name not in INACTIVE_TENANT_OK]
EXEMPT = [f for f in TENANT_FUNCTIONS if f.name in INACTIVE_TENANT_OK]
APP_EXECUTABLE = {f.name for f in app_functions()}
INACTIVE = ("SUSPENDED", "CLOSED")
CALLERS = ("owner", APP_ROLE)


@dataclass
class Tenant:
    conn: psycopg.Connection
    rows: TenantRows


@pytest.fixture(scope="module")
def tenant(leadboost_server: Server, leadboost_template: str) -> Iterator[Tenant]:
    """One tenant with a row in every table (tenant_rows), its database shared by the module; each test works in a
    transaction that is rolled back."""
    with fresh_database(leadboost_server, leadboost_template) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        yield Tenant(conn, make_tenant_rows(conn))


def call_as(conn: psycopg.Connection, function: Function, rows: TenantRows, caller: str, undo: bool = False):
    statement, params = call(function, valid_arguments(function, rows))
    if caller == "owner":
        return attempt(conn, statement, params, undo=undo)
    with acting_as(conn, rows.tenant_id):
        return attempt(conn, statement, params, undo=undo)


def cases(functions: list[Function]) -> list:
    return [pytest.param(f, status, caller, id=f"{f.name}-{status}-{caller}")
            for f in functions for status in INACTIVE for caller in CALLERS
            if caller == "owner" or f.name in APP_EXECUTABLE]


def test_the_writing_functions_are_every_public_function_that_takes_a_tenant_but_the_documented_exceptions():
    """The list below is read from the public API, not written by hand: a new writing function is tested here
    without editing this file (and the exceptions are exactly the documented ones, all of them still public)."""
    assert {f.name for f in EXEMPT} == INACTIVE_TENANT_OK
    assert len(WRITING) >= 11, [f.name for f in WRITING]


@pytest.mark.parametrize(("function", "status", "caller"), cases(WRITING))
def test_a_writing_function_refuses_a_tenant_that_is_not_active(tenant, function, status, caller):
    """The call that succeeds for the ACTIVE tenant is refused with LB004 ('tenant … is <status>, not ACTIVE')
    once the tenant is SUSPENDED or CLOSED, and no row of any table changes."""
    conn, rows = tenant.conn, tenant.rows
    with rolled_back(conn):
        works = call_as(conn, function, rows, caller, undo=True)
        assert works.error is None, f"the valid call fails for the ACTIVE tenant: {works}"
        conn.execute("UPDATE iam.tenants SET status = %s WHERE id = %s", (status, rows.tenant_id))
        before = data_fingerprint(conn)
        answer = call_as(conn, function, rows, caller)
        changed = fingerprint_changes(before, data_fingerprint(conn))
    assert answer.sqlstate == "LB004", f"{function.name} for a {status} tenant answered {answer}"
    assert f"is {status}, not ACTIVE" in answer.message, answer.message
    assert changed == [], f"{function.name} for a {status} tenant changed {changed}"


@pytest.mark.parametrize(("function", "status", "caller"), cases(EXEMPT))
def test_the_documented_exceptions_still_serve_a_tenant_that_is_not_active(tenant, function, status, caller):
    """rehydrate, replay_stream, create_snapshot and the saga reports accept a SUSPENDED or CLOSED tenant."""
    conn, rows = tenant.conn, tenant.rows
    with rolled_back(conn):
        conn.execute("UPDATE iam.tenants SET status = %s WHERE id = %s", (status, rows.tenant_id))
        answer = call_as(conn, function, rows, caller)
    assert answer.error is None, f"{function.name} for a {status} tenant answered {answer}"

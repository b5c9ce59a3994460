"""A tenant that is not ACTIVE is refused (LB004) by every writing function on ITS OWN status: other tenants being
ACTIVE — created before it and after it, each with a row in every table — changes nothing. The functions that read
the tenant's status together with other data in one query (finanzas.post_transaction, events.append_event since
upgrade 0090) must read this tenant's row. Found by the mutation run: post_transaction reading the status of a
tenant other than p_tenant_id went unnoticed, because the inactive-tenant contract runs with one tenant only."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from contracts.bad_calls import INACTIVE_TENANT_OK
from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.server import Server
from leadboost_schema.testing.attempts import acting_as, attempt, rolled_back
from leadboost_schema.testing.public_api import (
    APP_ROLE,
    app_functions,
    call,
    public_functions,
    valid_arguments,
)
from leadboost_schema.testing.tenant_rows import TenantRows, make_tenant_rows

WRITING = [f for f in public_functions() if f.takes_tenant and f.name not in INACTIVE_TENANT_OK]
APP_EXECUTABLE = {f.name for f in app_functions()}


@dataclass
class World:
    conn: psycopg.Connection
    rows: TenantRows


@pytest.fixture(scope="module")
def world(leadboost_server: Server, leadboost_template: str) -> Iterator[World]:
    """The tenant under test between two ACTIVE neighbours, all three with a row in every table."""
    with fresh_database(leadboost_server, leadboost_template) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        make_tenant_rows(conn)
        rows = make_tenant_rows(conn)
        make_tenant_rows(conn)
        yield World(conn, rows)


@pytest.mark.parametrize("status", ["SUSPENDED", "CLOSED"])
@pytest.mark.parametrize("caller", ["owner", APP_ROLE])
@pytest.mark.parametrize("function", WRITING, ids=lambda f: f.name)
def test_a_tenant_that_is_not_active_is_refused_while_others_are_active(world: World, function, caller: str,
                                                                         status: str):
    if caller == APP_ROLE and function.name not in APP_EXECUTABLE:
        pytest.skip(f"{function.name} is not granted to {APP_ROLE}")
    conn, rows = world.conn, world.rows
    statement, params = call(function, valid_arguments(function, rows))
    with rolled_back(conn):
        conn.execute("UPDATE iam.tenants SET status = %s WHERE id = %s", (status, rows.tenant_id))
        active = conn.execute("SELECT count(*) FROM iam.tenants WHERE status = 'ACTIVE'").fetchone()[0]
        assert active == 2
        if caller == "owner":
            answer = attempt(conn, statement, params)
        else:
            with acting_as(conn, rows.tenant_id):
                answer = attempt(conn, statement, params)
    assert answer.sqlstate == "LB004", f"{function.name} for a {status} tenant answered {answer}"
    assert f"is {status}, not ACTIVE" in answer.message, answer.message

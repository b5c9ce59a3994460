"""The tenant binding as events.append_event and the version trigger decide it (issue 14, upgrade 0080).

Both decide a plain binding inline — app.tenant_id spelled exactly as the tenant's uuid text, or an unbound
superuser — and leave every other case to iam.assert_tenant_access / iam.assert_row_tenant. The rule they must
keep is iam's: a write for tenant A is accepted when the session is bound to A in any spelling the uuid type
accepts (upper case, braces, no hyphens) or, unbound, the calling role is unrestricted; a binding to another
tenant, no binding for a restricted role, or a malformed binding is LB003 — through the function and through a
direct INSERT alike.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest

from leadboost_schema.databases.clones import fresh_database
from leadboost_schema.server import Server
from leadboost_schema.testing.attempts import acting_as, attempt, rolled_back
from leadboost_schema.testing.tenant_rows import TenantRows, make_tenant_rows

APPEND = ("SELECT events.append_event(%s, %s, 'ACCOUNT', 'Credited', '{\"balance\": 7}', %s)")
DIRECT = ("INSERT INTO events.event_store (tenant_id, stream_id, stream_type, version, event_type, payload)"
          " VALUES (%s, %s, 'ACCOUNT', %s, 'Credited', '{\"balance\": 7}')")


@dataclass
class World:
    dsn: str
    conn: psycopg.Connection
    a: TenantRows
    b: TenantRows


@pytest.fixture(scope="module")
def world(leadboost_server: Server, leadboost_template: str) -> Iterator[World]:
    with fresh_database(leadboost_server, leadboost_template) as dsn:
        with psycopg.connect(dsn, autocommit=True) as setup:
            a, b = make_tenant_rows(setup), make_tenant_rows(setup)
        with psycopg.connect(dsn, autocommit=True) as conn:
            yield World(dsn, conn, a, b)


# Spellings of a tenant's uuid that the uuid type reads as that tenant.
SAME_TENANT: dict[str, Callable[[uuid.UUID], str]] = {
    "canonical": str,
    "upper case": lambda t: str(t).upper(),
    "braces": lambda t: f"{{{t}}}",
    "no hyphens": lambda t: t.hex,
}


def _write(world: World, how: str, binding: str | None, role: str) -> str | None:
    """Appends A's stream-1 event 3 (through the function, or straight into the table with INSERT granted for
    the transaction) as ``role`` bound to ``binding``: the SQLSTATE, or None when it was written."""
    a = world.a
    with rolled_back(world.conn):
        if how == "direct":
            world.conn.execute("GRANT INSERT ON events.event_store TO leadboost_app")
        with acting_as(world.conn, binding, role=role):
            if how == "function":
                done = attempt(world.conn, APPEND, (a.tenant_id, a.stream_id, 2))
            else:
                done = attempt(world.conn, DIRECT, (a.tenant_id, a.stream_id, 3))
    return done.sqlstate


@pytest.mark.parametrize("how", ["function", "direct"])
@pytest.mark.parametrize("spelling", list(SAME_TENANT))
def test_a_binding_to_the_tenant_in_any_spelling_writes(world: World, how: str, spelling: str) -> None:
    assert _write(world, how, SAME_TENANT[spelling](world.a.tenant_id), "leadboost_app") is None


@pytest.mark.parametrize("how", ["function", "direct"])
@pytest.mark.parametrize("binding", ["other tenant", "unbound", "malformed", "one brace"])
def test_a_restricted_role_not_bound_to_the_tenant_is_lb003(world: World, how: str, binding: str) -> None:
    value = {"other tenant": str(world.b.tenant_id), "unbound": None, "malformed": "not-a-uuid",
             "one brace": f"{{{world.a.tenant_id}"}[binding]
    assert _write(world, how, value, "leadboost_app") == "LB003"


@pytest.mark.parametrize("how", ["function", "direct"])
def test_an_unbound_superuser_writes(world: World, how: str) -> None:
    assert _write(world, how, None, "none") is None


@pytest.mark.parametrize("how", ["function", "direct"])
def test_a_superuser_with_a_malformed_binding_is_lb003(world: World, how: str) -> None:
    """The inline decision takes only an empty binding as unbound: a malformed one is refused for every role."""
    assert _write(world, how, f"{world.a.tenant_id}x", "none") == "LB003"


def test_a_superuser_bound_to_another_tenant_may_not_append(world: World) -> None:
    """The function refuses a session bound to another tenant whoever calls it (the trigger lets an unrestricted
    role write any tenant's row directly, as iam.assert_row_tenant says)."""
    assert _write(world, "function", str(world.b.tenant_id), "none") == "LB003"
    assert _write(world, "direct", str(world.b.tenant_id), "none") is None


@pytest.mark.parametrize("how", ["function", "direct"])
def test_a_session_that_never_set_the_binding_is_unbound(world: World, how: str) -> None:
    """app.tenant_id never set in the session reads as NULL, not '': a restricted role is still LB003 and a
    superuser still writes."""
    a = world.a
    outcomes = {}
    for role in ("leadboost_app", "none"):
        with psycopg.connect(world.dsn, autocommit=True) as fresh, rolled_back(fresh):
            fresh.execute("GRANT INSERT ON events.event_store TO leadboost_app")
            fresh.execute("SELECT set_config('role', %s, true)", (role,))
            assert fresh.execute("SELECT current_setting('app.tenant_id', true)").fetchone() == (None,)
            if how == "function":
                done = attempt(fresh, APPEND, (a.tenant_id, a.stream_id, 2))
            else:
                done = attempt(fresh, DIRECT, (a.tenant_id, a.stream_id, 3))
            outcomes[role] = done.sqlstate
    assert outcomes == {"leadboost_app": "LB003", "none": None}

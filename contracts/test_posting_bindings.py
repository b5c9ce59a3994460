"""The tenant binding as the ledger's functions decide it (finanzas.post_transaction decides a plain binding inline
since upgrade 0090, finanzas.reverse_transaction asks iam.assert_tenant_access). The rule is iam's: a posting for
tenant A is accepted when the session is bound to A in any spelling the uuid type reads as A, or, unbound, when
the calling role is a superuser (or otherwise unrestricted); a binding to another tenant — for a superuser too —,
a malformed binding, or no binding for a restricted role is LB003, and nothing is written. Found by the mutation
run: post_transaction's inline decision with a superuser's binding, or with the superuser test, changed went
unnoticed (only restricted sessions bound to the right or another tenant were tried).
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import psycopg
import pytest

from leadboost_schema.testing.attempts import acting_as, attempt, rolled_back

LEGS = json.dumps([{"account_type": "CASH", "amount": 5, "direction": 1},
                   {"account_type": "REVENUE", "amount": 5, "direction": -1}])

SAME_TENANT: dict[str, Callable[[uuid.UUID], str]] = {
    "canonical": str,
    "upper case": lambda t: str(t).upper(),
    "braces": lambda t: f"{{{t}}}",
    "no hyphens": lambda t: t.hex,
}


def _tenant(conn: psycopg.Connection, name: str) -> uuid.UUID:
    return conn.execute("INSERT INTO iam.tenants (name) VALUES (%s) RETURNING id",
                        (f"{name}-{uuid.uuid4().hex[:6]}",)).fetchone()[0]


def _write(conn: psycopg.Connection, function: str, tenant: uuid.UUID, binding: str | None, role: str) -> str | None:
    """Posts for ``tenant`` (or reverses its posting ``earlier``) as ``role`` bound to ``binding``, rolled back: the
    SQLSTATE, or None when the call wrote its rows."""
    earlier = conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS)).fetchone()[0]
    call = ("SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS)) if function == "post" else \
        ("SELECT finanzas.reverse_transaction(%s, %s)", (tenant, earlier))
    with rolled_back(conn):
        with acting_as(conn, binding, role=role):
            done = attempt(conn, *call)
        if done.error is None:
            written = conn.execute("SELECT count(*) FROM finanzas.transactions WHERE tenant_id = %s AND id = %s",
                                   (tenant, done.rows[0][0])).fetchone()[0]
            assert written == 1, "the call answered an id it did not write"
    return done.sqlstate


@pytest.mark.parametrize("function", ["post", "reverse"])
@pytest.mark.parametrize("spelling", list(SAME_TENANT))
@pytest.mark.parametrize("role", ["leadboost_app", "none"], ids=["leadboost_app", "superuser"])
def test_a_binding_to_the_tenant_in_any_spelling_posts(leadboost_conn, function: str, spelling: str, role: str):
    a = _tenant(leadboost_conn, "a")
    assert _write(leadboost_conn, function, a, SAME_TENANT[spelling](a), role) is None


@pytest.mark.parametrize("function", ["post", "reverse"])
@pytest.mark.parametrize("binding", ["other tenant", "other tenant upper case", "malformed", "one brace"])
@pytest.mark.parametrize("role", ["leadboost_app", "none"], ids=["leadboost_app", "superuser"])
def test_a_binding_that_is_not_the_tenant_is_lb003_for_every_role(leadboost_conn, function: str, binding: str,
                                                                   role: str):
    """The binding is checked before the role is looked at: a superuser bound to B (or to nothing readable) may
    not post for A either."""
    a, b = _tenant(leadboost_conn, "a"), _tenant(leadboost_conn, "b")
    value = {"other tenant": str(b), "other tenant upper case": str(b).upper(), "malformed": f"{a}x",
             "one brace": f"{{{a}"}[binding]
    assert _write(leadboost_conn, function, a, value, role) == "LB003"


@pytest.mark.parametrize("function", ["post", "reverse"])
@pytest.mark.parametrize(("role", "sqlstate"), [("leadboost_app", "LB003"), ("none", None)],
                         ids=["leadboost_app", "superuser"])
def test_unbound_only_an_unrestricted_role_posts(leadboost_conn, function: str, role: str, sqlstate: str | None):
    a = _tenant(leadboost_conn, "a")
    assert _write(leadboost_conn, function, a, None, role) == sqlstate


@pytest.mark.parametrize("function", ["post", "reverse"])
def test_unbound_a_restricted_role_is_lb003_whatever_else_is_wrong(leadboost_conn, make_tenant, function: str):
    """The binding comes first (the errors and their order are 1.0.0's): an unbound restricted session is told
    LB003 for an unknown tenant and for a suspended one, not LB002 / LB004 — it learns nothing about tenants."""
    suspended = make_tenant(leadboost_conn, status="SUSPENDED")
    unknown = uuid.uuid4()
    answers = []
    for tenant in (suspended, unknown):
        call = ("SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS)) if function == "post" else \
            ("SELECT finanzas.reverse_transaction(%s, %s)", (tenant, uuid.uuid4()))
        with rolled_back(leadboost_conn), acting_as(leadboost_conn, None):
            answers.append(attempt(leadboost_conn, *call).sqlstate)
    assert answers == ["LB003", "LB003"]

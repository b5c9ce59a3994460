"""The service's tests, written against the fixtures docs/plugin.md documents, as a downstream repository would."""
from __future__ import annotations

import uuid

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ACME = uuid.UUID("11111111-1111-1111-1111-111111111111")
ISOLATED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_the_services_hypothesis_profile_is_in_force():
    """The plugin registered its profiles but loaded none over ours."""
    assert (settings.default.max_examples, settings.default.stateful_step_count) == (15, 10)
    assert "leadboost-ci" in settings._profiles  # registered, for --hypothesis-profile=leadboost-ci


def test_server_and_settings(leadboost_server, leadboost_settings):
    assert leadboost_server.backend in ("dsn", "local", "embedded", "docker")
    assert leadboost_server.version >= 150000
    assert [p.name for p in leadboost_settings.extra_sql] == ["schema"]
    assert [p.name for p in leadboost_settings.extra_seed_sql] == ["seed.sql"]
    with psycopg.connect(leadboost_server.admin_dsn) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_templates_are_distinct_templates(leadboost_server, leadboost_template, leadboost_seeded_template):
    assert leadboost_template != leadboost_seeded_template
    with psycopg.connect(leadboost_server.admin_dsn) as conn:
        flags = conn.execute("SELECT bool_and(datistemplate) FROM pg_database WHERE datname IN (%s, %s)",
                             (leadboost_template, leadboost_seeded_template)).fetchone()
    assert flags == (True,)


def test_an_order_needs_an_existing_tenant(leadboost_conn, make_tenant):
    tenant = make_tenant(leadboost_conn)
    order = leadboost_conn.execute("SELECT svc.place_order(%s, 'SKU-1', 2)", (tenant,)).fetchone()[0]
    assert leadboost_conn.execute("SELECT tenant_id, quantity FROM svc.orders WHERE id = %s",
                                  (order,)).fetchone() == (tenant, 2)
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        leadboost_conn.execute("SELECT svc.place_order(%s, 'SKU-1', 1)", (uuid.uuid4(),))


def test_a_fresh_database_has_no_seed(leadboost_dsn):
    with psycopg.connect(leadboost_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM svc.orders").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM iam.tenants").fetchone() == (0,)


def test_the_seeded_database_has_the_package_seed_then_ours(leadboost_seeded_conn, leadboost_seeded_dsn):
    assert leadboost_seeded_conn.execute("SELECT name FROM iam.tenants WHERE id = %s", (ACME,)).fetchone() \
        == ("ACME Corp",)
    assert leadboost_seeded_conn.execute("SELECT svc.ordered_quantity(%s)", (ACME,)).fetchone() == (3,)
    with psycopg.connect(leadboost_seeded_dsn) as other:
        assert other.execute("SELECT count(*) FROM svc.orders").fetchone() == (1,)


def test_the_application_role_may_place_orders(leadboost_seeded_conn):
    with leadboost_seeded_conn.transaction(force_rollback=True):
        leadboost_seeded_conn.execute("SET LOCAL ROLE leadboost_app")
        assert leadboost_seeded_conn.execute("SELECT has_function_privilege("
                                             "'svc.place_order(uuid, text, integer)', 'EXECUTE')").fetchone() == (True,)


@pytest.mark.postgres(">= 15")
def test_marker_runs_on_a_matching_server(leadboost_server):
    assert leadboost_server.version >= 150000


@ISOLATED
@given(quantities=st.lists(st.integers(1, 1000), min_size=1, max_size=8))
def test_ordered_quantity_is_the_sum_of_orders(leadboost_example, make_tenant, quantities):
    """Invariant: ordered_quantity(tenant) equals the sum of that tenant's order quantities (each example rolled
    back, so every example starts from an empty database)."""
    with leadboost_example() as conn:
        assert conn.execute("SELECT count(*) FROM svc.orders").fetchone() == (0,)
        tenant = make_tenant(conn)
        for quantity in quantities:
            conn.execute("SELECT svc.place_order(%s, 'SKU-1', %s)", (tenant, quantity))
        assert conn.execute("SELECT svc.ordered_quantity(%s)", (tenant,)).fetchone() == (sum(quantities),)


@ISOLATED
@given(first=st.integers(1, 50), second=st.integers(1, 50))
def test_two_sessions_see_each_others_committed_orders(leadboost_example, first, second):
    """Invariant: with a fresh committed tenant per example, orders committed by two sessions add up, and no
    example sees another example's orders."""
    with leadboost_example.tenant(sessions=2) as scope:
        a, b = scope.sessions
        a.execute("SELECT svc.place_order(%s, 'SKU-A', %s)", (scope.tenant_id, first))
        b.execute("SELECT svc.place_order(%s, 'SKU-B', %s)", (scope.tenant_id, second))
        assert scope.conn.execute("SELECT svc.ordered_quantity(%s)", (scope.tenant_id,)).fetchone() \
            == (first + second,)

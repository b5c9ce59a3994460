"""The fixtures of COMMON.md behave as documented when a user's test file asks for them."""
from __future__ import annotations

EXAMPLE = '''
import uuid
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

def test_server(leadboost_server):
    assert leadboost_server.backend in ("dsn", "local", "embedded", "docker")
    assert leadboost_server.version >= 150000
    with psycopg.connect(leadboost_server.admin_dsn) as conn:
        assert conn.execute("select 1").fetchone() == (1,)

def test_template_is_migrated(leadboost_server, leadboost_template):
    with psycopg.connect(leadboost_server.admin_dsn) as conn:
        row = conn.execute("select datistemplate from pg_database where datname = %s",
                           (leadboost_template,)).fetchone()
    assert row == (True,)

@pytest.mark.parametrize("n", range(3))
def test_fresh_database_each_test(leadboost_conn, make_tenant, n):
    assert leadboost_conn.execute("select count(*) from iam.tenants").fetchone() == (0,)
    tenant = make_tenant(leadboost_conn)
    assert isinstance(tenant, uuid.UUID)
    assert leadboost_conn.execute("select status from iam.tenants where id = %s", (tenant,)).fetchone() == ("ACTIVE",)

def test_seeded(leadboost_seeded_conn, leadboost_seeded_dsn):
    names = [r[0] for r in leadboost_seeded_conn.execute("select name from iam.tenants")]
    assert names == ["ACME"]

@settings(max_examples=20, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=10))
def test_example_rollback(leadboost_example, make_tenant, name):
    with leadboost_example() as conn:
        assert conn.execute("select count(*) from iam.tenants").fetchone() == (0,)
        make_tenant(conn, name)

@settings(max_examples=10, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 3))
def test_example_tenant(leadboost_example, sessions):
    with leadboost_example.tenant(sessions=sessions) as scope:
        assert len(scope.sessions) == sessions
        for s in scope.sessions:
            assert s.execute("select count(*) from iam.tenants where id = %s", (scope.tenant_id,)).fetchone() == (1,)

@pytest.mark.postgres(">= 99")
def test_skipped_by_version():
    raise AssertionError("the marker should have skipped this")

@pytest.mark.postgres(">= 15")
def test_run_by_version():
    pass
'''


def test_fixtures_as_documented(pytester, standin_args):
    pytester.makepyfile(test_example=EXAMPLE)
    result = pytester.runpytest_subprocess(*standin_args)
    result.assert_outcomes(passed=9, skipped=1)
    result.stdout.fnmatch_lines(["leadboost-schema: * backend: *"])

"""A service's own SQL on top of the schema (issue 15.1): applied in order after the schema (its seed after 008, in
the seeded template only), part of the template key, errors naming file and line."""
from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from leadboost_schema.databases.sql_files import SchemaFileError, apply_sql_file
from leadboost_schema.databases.sql_statements import sql_statements
from leadboost_schema.server.our_databases import template_key
from leadboost_schema.server.settings import Settings, SettingsError
from tests.conftest import STANDIN_SCHEMA

SERVICE_TABLE = """CREATE SCHEMA svc;
CREATE TABLE svc.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL REFERENCES iam.tenants (id)
);
"""
SERVICE_FUNCTION = """CREATE FUNCTION svc.order_count(p_tenant uuid) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM svc.orders WHERE tenant_id = p_tenant;
$$;
"""
SERVICE_SEED = "INSERT INTO svc.orders (tenant_id) VALUES ('11111111-1111-1111-1111-111111111111');\n"

INNER_TESTS = '''
def test_plain_template_has_the_service_sql_and_no_seed(leadboost_conn):
    assert leadboost_conn.execute("select svc.order_count('11111111-1111-1111-1111-111111111111')").fetchone() == (0,)

def test_seeded_template_has_the_service_seed_after_008(leadboost_seeded_conn):
    assert leadboost_seeded_conn.execute(
        "select svc.order_count('11111111-1111-1111-1111-111111111111')").fetchone() == (1,)
'''


def test_statements_split_like_psql():
    """Semicolons inside quotes, dollar quotes, comments and parentheses do not end a statement."""
    text = ("SELECT 'a;b';\n-- x; y\nSELECT $f$ ; $f$, E'\\';', \"c;d\" /* e; /* f; */ ; */;\n"
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\nSELECT (1;\n")
    statements = [s.strip() for _, s in sql_statements(text)]
    assert statements == ["SELECT 'a;b';", "-- x; y\nSELECT $f$ ; $f$, E'\\';', \"c;d\" /* e; /* f; */ ; */;",
                          "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;", "SELECT (1;"]


@pytest.mark.parametrize("body, line, sqlstate", [
    # a run-time error: the server gives no position, the runner knows which statement it sent
    ("CREATE TABLE t (id int PRIMARY KEY);\n\n-- a comment\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (1);\n",
     5, "23505"),
    # the server points at a character inside a multi-line statement
    ("CREATE TABLE t (id int);\nSELECT id,\n       missing_column\nFROM t;\n", 3, "42703"),
])
def test_an_error_names_the_file_and_line(leadboost_conn, tmp_path, body, line, sqlstate):
    path = tmp_path / "service.sql"
    path.write_text(body)
    with pytest.raises(SchemaFileError) as failed:
        apply_sql_file(leadboost_conn, path)
    assert str(failed.value).startswith(f"{path}:{line}: [{sqlstate}] ")
    assert (failed.value.path, failed.value.line) == (path, line)


def test_a_failing_file_alone_leaves_nothing(leadboost_conn, tmp_path):
    path = tmp_path / "service.sql"
    path.write_text("SET lock_timeout = '7s';\nCREATE TABLE kept_not (id int);\nSELECT 1/0;\n")
    with pytest.raises(SchemaFileError):
        apply_sql_file(leadboost_conn, path)
    assert leadboost_conn.execute("SELECT to_regclass('kept_not'), current_setting('lock_timeout')").fetchone() \
        == (None, "0")


def test_a_file_that_cannot_run_in_a_transaction_still_applies(leadboost_conn, tmp_path):
    path = tmp_path / "concurrently.sql"
    path.write_text("CREATE TABLE c (id int);\nCREATE INDEX CONCURRENTLY c_id ON c (id);\n")
    apply_sql_file(leadboost_conn, path)
    assert leadboost_conn.execute("SELECT to_regclass('c_id') IS NOT NULL").fetchone() == (True,)


@pytest.fixture
def service(tmp_path: Path) -> Path:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "010_orders.sql").write_text(SERVICE_TABLE)
    (tmp_path / "sql" / "020_functions.sql").write_text(SERVICE_FUNCTION)
    (tmp_path / "seed.sql").write_text(SERVICE_SEED)
    return tmp_path


def test_the_template_key_covers_schema_and_service_sql(service, tmp_path):
    schema = tmp_path / "schema"
    shutil.copytree(STANDIN_SCHEMA, schema)
    extra, seed = (service / "sql",), (service / "seed.sql",)
    key = template_key(schema, extra, seed)
    assert template_key(schema, extra, seed) == key
    assert template_key(schema) != key
    (service / "sql" / "020_functions.sql").write_text(SERVICE_FUNCTION.replace("STABLE", "IMMUTABLE"))
    changed_service = template_key(schema, extra, seed)
    assert changed_service != key
    (schema / "001_schema_iam.sql").write_text((schema / "001_schema_iam.sql").read_text() + "-- changed\n")
    assert template_key(schema, extra, seed) not in (key, changed_service)
    (service / "seed.sql").write_text(SERVICE_SEED + "-- changed\n")
    assert len({key, changed_service, template_key(schema, extra, seed)}) == 3


def test_the_template_key_follows_includes_of_a_file(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "part.sql").write_text("SELECT 1;\n")
    (tmp_path / "main.sql").write_text("\\ir inc/part.sql\n")
    key = template_key(STANDIN_SCHEMA, (tmp_path / "main.sql",))
    (tmp_path / "inc" / "part.sql").write_text("SELECT 2;\n")
    assert template_key(STANDIN_SCHEMA, (tmp_path / "main.sql",)) != key


def test_settings_take_several_paths_from_each_source(service, tmp_path):
    first, second = service / "sql" / "010_orders.sql", service / "sql" / "020_functions.sql"
    assert Settings.resolve(cli={"extra_sql": [str(first), str(second)]}, env={}).extra_sql == (first, second)
    assert Settings.resolve(env={"LEADBOOST_EXTRA_SQL": f"{first}:{second}"}).extra_sql == (first, second)
    assert Settings.resolve(ini={"leadboost_extra_sql": "sql/010_orders.sql\n  sql/020_functions.sql"},
                            ini_dir=service, env={}).extra_sql == (first, second)
    with pytest.raises(SettingsError, match="does-not-exist.sql does not exist"):
        Settings.resolve(env={"LEADBOOST_EXTRA_SEED_SQL": str(tmp_path / "does-not-exist.sql")})


def test_a_service_run_gets_its_sql_and_seed(pytester, standin_args, service):
    pytester.makepyfile(test_service=INNER_TESTS)
    result = pytester.runpytest_subprocess(*standin_args, f"--leadboost-extra-sql={service / 'sql'}",
                                           f"--leadboost-extra-seed-sql={service / 'seed.sql'}")
    result.assert_outcomes(passed=2)


def test_a_broken_service_file_fails_naming_file_and_line(pytester, standin_args, service):
    (service / "sql" / "020_functions.sql").write_text("\n\nSELECT * FROM svc.no_such_table;\n")
    pytester.makepyfile(test_service=INNER_TESTS)
    result = pytester.runpytest_subprocess(*standin_args, f"--leadboost-extra-sql={service / 'sql'}")
    result.stdout.fnmatch_lines([f"*{service / 'sql' / '020_functions.sql'}:3: [[]42P01] *no_such_table*"])
    assert result.ret != 0


def test_a_server_keeps_templates_per_key(leadboost_server, service):
    """Two keys, two templates on one server; asking again for a key reuses its template."""
    from leadboost_schema.databases.templates import ensure_template

    plain = ensure_template(leadboost_server, STANDIN_SCHEMA)
    with_service = ensure_template(leadboost_server, STANDIN_SCHEMA, extra_sql=(service / "sql",))
    assert plain != with_service
    assert ensure_template(leadboost_server, STANDIN_SCHEMA, extra_sql=(service / "sql",)) == with_service
    with psycopg.connect(leadboost_server.admin_dsn) as admin:
        admin.execute(f'ALTER DATABASE "{with_service}" ALLOW_CONNECTIONS true')
    try:
        with psycopg.connect(leadboost_server.dsn(with_service)) as conn:
            assert conn.execute("SELECT to_regclass('svc.orders') IS NOT NULL").fetchone() == (True,)
    finally:
        with psycopg.connect(leadboost_server.admin_dsn) as admin:
            admin.execute(f'ALTER DATABASE "{with_service}" ALLOW_CONNECTIONS false')

"""The argument checks every public function starts with, at their documented edges (found by the mutation run:
each edge moved by one went unnoticed). The clock is a finite time from 1970-01-01 up to 9999-12-31 (LB008
outside); a JSON argument may be 1 MiB of text, not a byte more (LB006); a text that does not match its pattern
is quoted in the message up to its first 200 characters; and the role that owns the application schemas acts
unbound even when it is not a superuser (iam.calling_role_is_unrestricted)."""
from __future__ import annotations

import uuid

import psycopg
import pytest

MIB = 1024 * 1024


def _sqlstate(conn: psycopg.Connection, query: str, params: tuple) -> str | None:
    try:
        conn.execute(query, params)
    except psycopg.Error as refused:
        return refused.sqlstate
    return None


@pytest.mark.parametrize(("moment", "sqlstate"), [
    ("1969-12-31 23:59:59.999999+00", "LB008"),
    ("1970-01-01 00:00:00+00", None),
    ("9999-12-31 23:59:59.999999+00", None),
    ("10000-01-01 00:00:00+00", "LB008"),
])
def test_the_clock_is_a_time_from_1970_up_to_the_year_10000(leadboost_conn, moment: str, sqlstate: str | None):
    """Both ends of the documented range: its first instant is accepted, the one before it refused; its last
    instant is accepted, the year 10000 refused. (The owner calls: an unrestricted role may choose the clock.)"""
    assert _sqlstate(leadboost_conn, "SELECT iam.assert_clock_argument(%s::timestamptz)", (moment,)) == sqlstate


@pytest.mark.parametrize(("size", "sqlstate"), [(MIB - 1, None), (MIB, None), (MIB + 1, "LB006")])
def test_a_json_argument_may_be_one_mebibyte_of_text(leadboost_conn, size: int, sqlstate: str | None):
    """The limit is the JSON text's octet length: exactly 1 MiB passes, one byte more is LB006."""
    document = '"' + "a" * (size - 2) + '"'  # a JSON string: its text is itself, quotes included
    assert len(document.encode()) == size
    assert _sqlstate(leadboost_conn, "SELECT iam.assert_json_argument('p_payload', %s::jsonb)",
                     (document,)) == sqlstate


@pytest.mark.parametrize("length", [199, 200, 201, 5000])
def test_a_text_that_misses_its_pattern_is_quoted_up_to_200_characters(leadboost_conn, length: int):
    """LB005 quotes the value that missed the pattern — whole when short, its first 200 characters when long."""
    value = "x" * length
    with pytest.raises(psycopg.Error) as refused:
        leadboost_conn.execute("SELECT iam.assert_text_argument('p_sku', %s, 10000, '^y')", (value,))
    assert refused.value.sqlstate == "LB005"
    quoted = refused.value.diag.message_primary.rsplit(": ", 1)[1]
    assert quoted == f"'{value[:200]}'"


@pytest.mark.parametrize(("member_of_owner", "unrestricted"), [(True, True), (False, False)])
def test_a_role_with_the_schema_owners_privileges_is_unrestricted(leadboost_conn, member_of_owner: bool,
                                                                   unrestricted: bool):
    """Not only superusers and BYPASSRLS roles: a plain role holding the privileges of the role that owns the
    iam schema is unrestricted (row-level security does not restrict the owner either); one without is not —
    whoever owns the other schemas."""
    conn = leadboost_conn
    suffix = uuid.uuid4().hex[:8]
    owner, caller = f"lb_owner_{suffix}", f"lb_caller_{suffix}"
    conn.execute(f"CREATE ROLE {owner} NOLOGIN")
    conn.execute(f"CREATE ROLE {caller} NOLOGIN IN ROLE leadboost_app")
    try:
        conn.execute(f"ALTER SCHEMA iam OWNER TO {owner}")
        conn.execute(f"GRANT EXECUTE ON FUNCTION iam.calling_role_is_unrestricted() TO {caller}")
        if member_of_owner:
            conn.execute(f"GRANT {owner} TO {caller}")
        conn.execute(f"SET ROLE {caller}")
        answer = conn.execute("SELECT iam.calling_role_is_unrestricted()").fetchone()[0]
        conn.execute("RESET ROLE")
        assert answer is unrestricted
    finally:
        conn.execute("RESET ROLE")
        conn.execute("ALTER SCHEMA iam OWNER TO CURRENT_USER")
        conn.execute(f"REVOKE EXECUTE ON FUNCTION iam.calling_role_is_unrestricted() FROM {caller}")
        conn.execute(f"DROP ROLE {caller}")
        conn.execute(f"DROP ROLE {owner}")

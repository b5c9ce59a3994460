"""events.append_event's arguments at their documented edges (schema/README.md): stream_id 1–200 characters,
stream_type 1–64, event_type 1–100, each matching its pattern, else LB005; payload and metadata JSON objects of at
most 1 MiB of text, else LB006. The longest and largest accepted values are appended (the version is returned) and
one character or byte more is refused with the documented code — not LB001, not the row CHECK's 23514. Since upgrade
0090 the function checks valid arguments with one expression and sends any other call to the 1.0.0 checks, which
end in LB001: a limit moved by one in either place answers one of these calls wrongly. Found by the mutation run:
every such move went unnoticed (the limits were tried on other functions, or at random lengths)."""
from __future__ import annotations

import uuid

import psycopg
import pytest

MIB = 1048576
TEXTS = {"p_stream_id": (200, "s"), "p_stream_type": (64, "T"), "p_event_type": (100, "e")}
BAD_PATTERN = {"p_stream_id": "-starts-with-a-hyphen", "p_stream_type": "Lower", "p_event_type": "9starts_with_a_digit"}


def _append(conn: psycopg.Connection, tenant: uuid.UUID, **arguments) -> tuple[str | None, object]:
    """(None, version) when appended, else (SQLSTATE, message); nothing kept either way."""
    values = {"p_stream_id": "stream-1", "p_stream_type": "ACCOUNT", "p_event_type": "Credited",
              "p_payload": "{}", "p_metadata": "{}", **arguments}
    try:
        with conn.transaction(force_rollback=True):
            version = conn.execute(
                "SELECT events.append_event(%s, %s, %s, %s, %s::jsonb, 0, %s::jsonb)",
                (tenant, values["p_stream_id"], values["p_stream_type"], values["p_event_type"],
                 values["p_payload"], values["p_metadata"])).fetchone()[0]
            return None, version
    except psycopg.Error as refused:
        return refused.sqlstate, refused.diag.message_primary


@pytest.mark.parametrize("argument", list(TEXTS))
def test_a_text_argument_may_be_as_long_as_documented_and_no_longer(leadboost_conn, make_tenant, argument: str):
    limit, letter = TEXTS[argument]
    tenant = make_tenant(leadboost_conn)
    assert _append(leadboost_conn, tenant, **{argument: letter * limit}) == (None, 1)
    assert _append(leadboost_conn, tenant, **{argument: letter}) == (None, 1)
    assert _append(leadboost_conn, tenant, **{argument: letter * (limit + 1)}) == (
        "LB005", f"{argument} must be 1 to {limit} characters long, got {limit + 1}")
    assert _append(leadboost_conn, tenant, **{argument: ""}) == (
        "LB005", f"{argument} must be 1 to {limit} characters long, got 0")


@pytest.mark.parametrize("argument", list(TEXTS))
def test_a_text_argument_that_misses_its_pattern_is_lb005(leadboost_conn, make_tenant, argument: str):
    tenant = make_tenant(leadboost_conn)
    sqlstate, message = _append(leadboost_conn, tenant, **{argument: BAD_PATTERN[argument]})
    assert (sqlstate, message.startswith(f"{argument} does not match ")) == ("LB005", True), message


def _object_of(size: int) -> str:
    """A JSON object whose text (as jsonb prints it) is exactly ``size`` bytes: {"k": "aaa…"}."""
    text = '{"k": "' + "a" * (size - 9) + '"}'
    assert len(text.encode()) == size
    return text


@pytest.mark.parametrize("argument", ["p_payload", "p_metadata"])
def test_a_json_argument_may_be_one_mebibyte_of_text_and_no_more(leadboost_conn, make_tenant, argument: str):
    tenant = make_tenant(leadboost_conn)
    assert leadboost_conn.execute("SELECT octet_length(%s::jsonb::text)", (_object_of(MIB),)).fetchone()[0] == MIB
    assert _append(leadboost_conn, tenant, **{argument: _object_of(MIB)}) == (None, 1)
    sqlstate, _ = _append(leadboost_conn, tenant, **{argument: _object_of(MIB + 1)})
    assert sqlstate == "LB006"

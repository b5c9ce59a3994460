"""events.event_store's own row rule (event_store_row_check, for every writer, the owner's direct INSERT included):
stream_id at most 200 characters, stream_type at most 64, event_type at most 100 — the longest is stored, one
character more is refused by the CHECK (23514). contracts/test_text_length_limits.py covers the other schemas;
append_event refuses longer arguments itself (LB005, contracts/test_event_append_argument_edges.py), so only a
direct INSERT reaches the CHECK's limits. Found by the mutation run: each limit made one longer, or dropped, went
unnoticed (the bad-row test draws a random length past the limit)."""
from __future__ import annotations

import psycopg
import pytest

INSERT = ("INSERT INTO events.event_store (tenant_id, stream_id, stream_type, version, event_type, payload)"
          " VALUES (%(t)s, %(stream_id)s, %(stream_type)s, 1, %(event_type)s, '{}')")
LIMITS = {"stream_id": (200, "s"), "stream_type": (64, "T"), "event_type": (100, "e")}
VALID = {"stream_id": "stream-1", "stream_type": "ACCOUNT", "event_type": "Opened"}


def _insert(conn: psycopg.Connection, tenant, column: str, value: str) -> str | None:
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(INSERT, {"t": tenant, **VALID, column: value})
    except psycopg.Error as refused:
        assert refused.sqlstate != "23514" or refused.diag.constraint_name == "event_store_row_check", refused
        return refused.sqlstate
    return None


@pytest.mark.parametrize("column", list(LIMITS))
def test_an_event_column_holds_its_limit_and_not_one_character_more(leadboost_conn, make_tenant, column: str):
    limit, letter = LIMITS[column]
    tenant = make_tenant(leadboost_conn)
    assert _insert(leadboost_conn, tenant, column, letter * limit) is None
    assert _insert(leadboost_conn, tenant, column, letter * (limit + 1)) == "23514"
    assert _insert(leadboost_conn, tenant, column, letter * (limit + 50)) == "23514"

"""sys.start_saga's steps document at its edges (issue 13: its limits moved by one went unnoticed): a saga has 1 to
100 distinct steps — 100 are accepted, 101 are LB503 — and the LB503 message quotes the document's first 200
characters exactly, whatever its length."""
from __future__ import annotations

import json

import psycopg
import pytest

START = "SELECT sys.start_saga(%s, 'order.place', %s::jsonb)"


def _steps(n: int) -> str:
    return json.dumps([f"step{i:03d}" for i in range(n)])


@pytest.mark.parametrize(("count", "accepted"), [(1, True), (100, True), (101, False)])
def test_a_saga_has_at_most_100_steps(leadboost_conn, make_tenant, count: int, accepted: bool) -> None:
    """Rule: 1 to 100 distinct steps are accepted; 101 are refused (LB503) and nothing is written."""
    tenant = make_tenant(leadboost_conn)
    try:
        leadboost_conn.execute(START, (tenant, _steps(count)))
        refused = None
    except psycopg.Error as error:
        refused = error.sqlstate
    assert refused == (None if accepted else "LB503")
    sagas = leadboost_conn.execute("SELECT count(*) FROM sys.sagas WHERE tenant_id = %s", (tenant,)).fetchone()[0]
    assert sagas == (1 if accepted else 0)


@pytest.mark.parametrize("count", [101, 150])
def test_a_refused_steps_document_is_quoted_up_to_200_characters(leadboost_conn, make_tenant, count: int) -> None:
    """Rule: the LB503 message ends with the first 200 characters of the document as the server prints it."""
    tenant = make_tenant(leadboost_conn)
    document = _steps(count)
    printed = leadboost_conn.execute("SELECT %s::jsonb::text", (document,)).fetchone()[0]
    with pytest.raises(psycopg.Error) as refused:
        leadboost_conn.execute(START, (tenant, document))
    assert refused.value.sqlstate == "LB503"
    assert refused.value.diag.message_primary.endswith(", got " + printed[:200])

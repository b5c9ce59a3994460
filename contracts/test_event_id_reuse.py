"""An event id names one event of its tenant: append_event with a stored event id returns that event's version only
when the call repeats it exactly — the same stream, stream type, event type, payload and metadata — and is LB605
when any one of them differs (schema/README.md: "the same id with another event → LB605"), whatever the stream's
version has become. Found by the mutation run: the retry's comparison without the stream id went unnoticed (the
reuse tests changed the payload along with the stream)."""
from __future__ import annotations

import json
import uuid

import pytest

from leadboost_schema.testing.attempts import attempt, rolled_back

APPEND = "SELECT events.append_event(%s, %s, %s, %s, %s, %s, %s, %s)"
ORIGINAL = {"stream_id": "order-1", "stream_type": "ORDER", "event_type": "Placed", "payload": {"total": 5},
            "metadata": {"by": "web"}}
CHANGES = {
    "nothing": {},
    "stream_id": {"stream_id": "order-2"},
    "stream_type": {"stream_type": "INVOICE"},
    "event_type": {"event_type": "Cancelled"},
    "payload": {"payload": {"total": 6}},
    "metadata": {"metadata": {"by": "app"}},
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_stored_event_id_answers_only_the_exact_same_append(leadboost_conn, make_tenant, change: str):
    conn = leadboost_conn
    tenant, event_id = make_tenant(conn), uuid.uuid4()

    def append(fields: dict, expected: int, chosen_id: uuid.UUID | None):
        return (tenant, fields["stream_id"], fields["stream_type"], fields["event_type"],
                json.dumps(fields["payload"]), expected, json.dumps(fields["metadata"]), chosen_id)

    conn.execute(APPEND, append(ORIGINAL, 0, None))
    assert conn.execute(APPEND, append(ORIGINAL, 1, event_id)).fetchone()[0] == 2
    conn.execute(APPEND, append(ORIGINAL, 2, None))
    retry = {**ORIGINAL, **CHANGES[change]}
    with rolled_back(conn):
        answer = attempt(conn, APPEND, append(retry, 1, event_id))
    if change == "nothing":
        assert answer.rows == [(2,)], str(answer)
    else:
        assert (answer.sqlstate, answer.message) == (
            "LB605", f"event id {event_id} was already used for a different event"), str(answer)

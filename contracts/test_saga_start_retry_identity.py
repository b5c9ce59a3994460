"""sys.start_saga with a caller-chosen id is idempotent on the whole definition of *that* saga (schema/005: "the same
definition returns the id, another raises LB508"). Found by the mutation run: the retry could be compared with the
tenant's first saga instead of the one with its id, or without its payload, or without its type, with every other
test passing.

The definition is (saga_type, steps in order, payload). A retry changing any one part is LB508 and writes nothing;
a retry changing none returns the id and writes nothing — whatever other sagas the tenant holds, including one
whose definition is exactly the changed one.
"""
from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

START = "SELECT sys.start_saga(%s, %s, %s, %s, %s)"
DEFINITION = ("order.place", ["reserve", "charge", "ship"], {"order": 7})
CHANGES = {
    "type": ("order.cancel", DEFINITION[1], DEFINITION[2]),
    "steps": (DEFINITION[0], ["reserve", "ship", "charge"], DEFINITION[2]),
    "payload": (DEFINITION[0], DEFINITION[1], {"order": 8}),
}


def _start(conn, tenant: uuid.UUID, saga_id: uuid.UUID, definition: tuple) -> uuid.UUID:
    saga_type, steps, payload = definition
    return conn.execute(START, (tenant, saga_type, Jsonb(steps), Jsonb(payload), saga_id)).fetchone()[0]


def _stored(conn) -> list[tuple]:
    return conn.execute("SELECT s.tenant_id, s.id, s.saga_type, s.payload, s.state,"
                        " (SELECT jsonb_agg(st.step_name ORDER BY st.step_index) FROM sys.saga_steps AS st"
                        "   WHERE st.tenant_id = s.tenant_id AND st.saga_id = s.id)"
                        " FROM sys.sagas AS s ORDER BY 1, 2").fetchall()


@pytest.mark.parametrize("neighbour_first", [True, False], ids=["neighbour-started-first", "neighbour-started-last"])
@pytest.mark.parametrize("changed", sorted(CHANGES))
def test_a_retry_is_compared_with_its_own_saga_on_every_part(leadboost_conn, make_tenant, changed, neighbour_first):
    """Rule: start_saga(id, definition) after start_saga(id, D) returns id when definition = D and raises LB508
    when it differs from D in type, steps or payload — even when another saga of the tenant has exactly that
    definition (it is another saga: its id differs); neither answer writes anything."""
    conn = leadboost_conn
    tenant = make_tenant(conn)
    mine, neighbour = uuid.uuid4(), uuid.uuid4()
    starts = [(neighbour, CHANGES[changed]), (mine, DEFINITION)]
    for saga_id, definition in (starts if neighbour_first else starts[::-1]):
        assert _start(conn, tenant, saga_id, definition) == saga_id
    before = _stored(conn)
    assert _start(conn, tenant, mine, DEFINITION) == mine
    assert _start(conn, tenant, neighbour, CHANGES[changed]) == neighbour
    for saga_id, definition in ((mine, CHANGES[changed]), (neighbour, DEFINITION)):
        with pytest.raises(psycopg.Error) as refused:
            _start(conn, tenant, saga_id, definition)
        assert refused.value.sqlstate == "LB508", refused.value
        assert refused.value.diag.message_primary == f"saga id {saga_id} was already used for a different saga"
    assert _stored(conn) == before

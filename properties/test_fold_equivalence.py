"""The one-pass fold equals the documented fold (issue 17.5): events.rehydrate and events.replay_stream compute the
state as "each key's last write" in one pass; events.apply_event, applied event by event, is how the README defines
it."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from leadboost_schema.testing import strategies as lb
from properties.hypothesis_settings import PROPERTY

# Empty payloads too (an event that changes nothing), and values of several JSON types (null removes the key).
# Strings jsonb can hold: no NUL (\u0000 is 22P05) and no lone surrogate (invalid JSON text, 22P02), both refused
# at the call before any fold.
text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=3)
payload = st.dictionaries(st.sampled_from(("a", "b", "c", "d")),
                          st.one_of(st.none(), st.integers(0, 3), text, st.lists(st.integers(0, 2), max_size=2)),
                          max_size=3)


@PROPERTY
@given(payloads=st.lists(payload, min_size=1, max_size=12), data=st.data())
def test_rehydrate_equals_apply_event_folded_event_by_event(leadboost_conn, make_tenant, payloads, data):
    """Invariant: for any stream, with snapshots at any versions, rehydrate and replay_stream at every version
    equal the state events.apply_event gives when applied to each event in order."""
    conn, tenant = leadboost_conn, make_tenant(leadboost_conn)
    for expected, body in enumerate(payloads):
        conn.execute("SELECT events.append_event(%s, 's', 'ACCOUNT', %s, %s, %s)",
                     (tenant, data.draw(lb.make_event_type(), label="type"), Jsonb(body), expected))
    for version in data.draw(st.sets(st.integers(1, len(payloads)), max_size=3), label="snapshots"):
        conn.execute("SELECT events.create_snapshot(%s, 's', %s)", (tenant, version))
    folded = conn.execute(
        "WITH RECURSIVE f(version, state) AS (SELECT 0::bigint, '{}'::jsonb UNION ALL"
        " SELECT e.version, events.apply_event(f.state, e.event_type, e.payload) FROM f"
        " JOIN events.event_store e ON e.tenant_id = %s AND e.stream_id = 's' AND e.version = f.version + 1)"
        " SELECT version, state FROM f WHERE version > 0 ORDER BY version", (tenant,)).fetchall()
    for version, state in folded:
        assert conn.execute("SELECT version, state FROM events.rehydrate(%s, 's', %s)",
                            (tenant, version)).fetchone() == (version, state)
        assert conn.execute("SELECT version, state FROM events.replay_stream(%s, 's', %s)",
                            (tenant, version)).fetchone() == (version, state)

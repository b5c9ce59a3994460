"""Snapshot cleanup keeps exactly the latest p_keep snapshots of every stream, and changes no rehydrated state."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from leadboost_schema.testing import strategies as lb
from properties.hypothesis_settings import PROPERTY
from properties.models.event_stream import Stream, snapshots_kept

# A stream: its events' payloads, and which of its versions have a snapshot (indices into the events).
stream = st.lists(lb.make_event_payload(), min_size=1, max_size=7).flatmap(
    lambda events: st.tuples(st.just(events), st.sets(st.integers(1, len(events)))))


@PROPERTY
@given(streams=st.lists(st.tuples(st.integers(0, 1), stream), min_size=1, max_size=4),
       keep=st.one_of(st.none(), st.integers(1, 5)))
def test_cleanup_keeps_exactly_the_latest_snapshots_of_every_stream(leadboost_example, make_tenant, streams, keep):
    """Invariant (snapshot cleanup): for any streams of two tenants, any snapshots of them and any p_keep (or the
    default, 3), cleanup_old_snapshots removes exactly the snapshots below each stream's p_keep latest — never a
    later one, never one of a stream that has no more than p_keep — returns how many it removed, and rehydrating
    any version of any stream gives the full replay's state before and after."""
    with leadboost_example() as conn:
        tenants = [make_tenant(conn), make_tenant(conn)]
        models: dict[tuple, tuple[Stream, set[int]]] = {}
        for index, (owner, (events, versions)) in enumerate(streams):
            key = (tenants[owner], f"stream-{index}")
            model = Stream()
            for payload in events:
                conn.execute("SELECT events.append_event(%s, %s, 'ACCOUNT', 'Changed', %s, %s)",
                             (*key, Jsonb(payload), model.version))
                model.append(payload, model.version)
            for version in sorted(versions):
                conn.execute("SELECT events.create_snapshot(%s, %s, %s)", (*key, version))
            models[key] = (model, versions)

        removed = conn.execute("SELECT events.cleanup_old_snapshots()" if keep is None else
                               "SELECT events.cleanup_old_snapshots(%s)", () if keep is None else (keep,)).fetchone()[0]
        kept = {key: snapshots_kept(versions, 3 if keep is None else keep) for key, (_, versions) in models.items()}
        stored: dict[tuple, set[int]] = {key: set() for key in models}
        for tenant, stream_id, version in conn.execute("SELECT tenant_id, stream_id, version FROM events.snapshots"):
            stored[tenant, stream_id].add(version)
        assert stored == kept, f"p_keep {keep}: snapshots left {stored}, the latest are {kept}"
        assert removed == sum(len(v) for _, v in models.values()) - sum(len(v) for v in kept.values())
        for (tenant, stream_id), (model, _) in models.items():
            for version in range(1, model.version + 1):
                state = conn.execute("SELECT state FROM events.rehydrate(%s, %s, %s)",
                                     (tenant, stream_id, version)).fetchone()[0]
                assert state == model.state(version), f"{stream_id} at {version}: {state}"

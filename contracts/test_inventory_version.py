"""The optimistic-lock version of stock.inventory_items belongs to the trigger: no UPDATE can choose it."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# What an UPDATE sets version to: nothing, the version read plus an offset (0: "keep it", -1: "back to the one a
# stale caller holds"), or a constant; with or without a real change of the quantities.
version_choice = st.one_of(st.none(), st.tuples(st.just("read"), st.sampled_from((-2, -1, 0, 1, 2, 7))),
                           st.tuples(st.just("constant"), st.sampled_from((1, 2, 100))))
update = st.tuples(version_choice, st.booleans())


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(updates=st.lists(update, min_size=1, max_size=6))
def test_every_update_adds_exactly_one_to_the_version_whatever_it_sets(leadboost_example, make_tenant, updates):
    """Invariant (optimistic locking): whatever an UPDATE sets version to — the version it read, an older one, a
    newer one, a constant, or nothing; with a quantity change or none — the stored version afterwards is the
    previous one plus one, so a version once handed out never matches again: a reservation with any earlier
    version is refused (STALE_VERSION) and the current one succeeds."""
    with leadboost_example() as conn:
        tenant = make_tenant(conn)
        conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, quantity_on_hand) VALUES (%s, 'SKU-1', 50)",
                     (tenant,))
        version, story = 1, []
        for choice, change in updates:
            target = None if choice is None else (version + choice[1] if choice[0] == "read" else choice[1])
            sets = [f"quantity_on_hand = quantity_on_hand + {1 if change else 0}"]
            if target is not None:
                sets.append(f"version = {max(target, 1)}")  # version >= 1 is a CHECK of its own
            conn.execute(f"UPDATE stock.inventory_items SET {', '.join(sets)} WHERE tenant_id = %s", (tenant,))
            stored = conn.execute("SELECT version FROM stock.inventory_items WHERE tenant_id = %s",
                                  (tenant,)).fetchone()[0]
            story.append(f"SET {', '.join(sets)}: version {version} -> {stored}")
            assert stored == version + 1, "\n".join(story)
            version = stored
        for stale in range(1, version):
            row = conn.execute("SELECT success, reason FROM stock.reserve_inventory(%s, 'SKU-1', 1, %s)",
                               (tenant, stale)).fetchone()
            assert row == (False, "STALE_VERSION"), f"version {stale} of {version} answered {row}"
        assert conn.execute("SELECT success FROM stock.reserve_inventory(%s, 'SKU-1', 1, %s)",
                            (tenant, version)).fetchone() == (True,)

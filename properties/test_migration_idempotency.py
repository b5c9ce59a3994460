"""Migration idempotency by firebase_id: concurrent backfill workers writing overlapping documents."""
from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from leadboost_schema.testing.interleaving import Step
from properties.hypothesis_settings import PROPERTY
from properties.models.backfill import Backfill
from properties.transactions import assert_errors_among, committed, make_scripts, scenario

INSERT = ("INSERT INTO migration.raw_signals (tenant_id, firebase_id, signal_type, payload)"
          " SELECT %s, d.firebase_id, 'page.view', jsonb_build_object('writer', d.content)"
          " FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS d (firebase_id, content, n) ORDER BY d.n"
          " ON CONFLICT (firebase_id) DO NOTHING")
# A batch: 1..3 documents from a pool of 4 ids; the content says which worker's copy it is.
batch = st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple)


def backfill_steps(tenant: uuid.UUID, prefix: str):
    def step_of(session: str, slots: tuple[int, ...]) -> Step:
        ids = [f"{prefix}{slot}" for slot in slots]
        return Step(f"backfill {','.join(map(str, slots))}", lambda conn: conn.execute(
            INSERT, (tenant, ids, [session] * len(ids))).rowcount)
    return step_of


@PROPERTY
@given(data=st.data())
def test_concurrent_backfills_write_each_document_once(two_sessions, leadboost_conn, make_tenant, data):
    """Invariant (migration idempotency): for any interleaving of backfill batches with overlapping firebase_ids
    (INSERT … ON CONFLICT (firebase_id) DO NOTHING) in transactions that commit, roll back or deadlock:
    replayed in commit order through the model, each batch inserts exactly the documents not yet migrated;
    every firebase_id is stored once, with the content of the first committed writer; and running every
    committed batch again changes nothing."""
    tenant = make_tenant(leadboost_conn)
    prefix = f"{tenant.hex[:12]}-doc"  # firebase_id is unique across tenants: each example has its own ids
    scripts = data.draw(make_scripts(batch, tuple(two_sessions.names), max_transactions=2), label="scripts")
    trace = two_sessions.run(scenario(scripts, backfill_steps(tenant, prefix)), data)
    assert_errors_among(trace, {"40P01"})

    model = Backfill()
    for outcome in committed(trace, scripts):
        for slots, event in zip(outcome.transaction.ops, outcome.events, strict=True):
            new = model.write([(f"{prefix}{slot}", outcome.session) for slot in slots])
            assert event.result == new, (
                f"{outcome.session}.{event.step} inserted {event.result}, the model {new}\n{trace}")

    def stored():
        return dict(leadboost_conn.execute("SELECT firebase_id, payload ->> 'writer' FROM migration.raw_signals"
                                           " WHERE tenant_id = %s", (tenant,)).fetchall())
    assert stored() == model.documents, f"stored {stored()}\n{trace}"
    for outcome in committed(trace, scripts):
        for slots in outcome.transaction.ops:
            ids = [f"{prefix}{slot}" for slot in slots]
            assert leadboost_conn.execute(INSERT, (tenant, ids, ["rerun"] * len(ids))).rowcount == 0
    assert stored() == model.documents, f"a rerun changed the migrated documents\n{trace}"

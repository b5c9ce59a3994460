"""The backfill report: validate_migrated_data() over any batches and rows equals the model's report, and so
does each tenant's own report (validate_migrated_data(p_only_tenant_id))."""
from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from properties.hypothesis_settings import PROPERTY
from properties.models.backfill import COLLECTIONS, Batch, Row, report

TENANTS = 2


@st.composite
def backfills(draw) -> tuple[list[Batch], list[Row]]:
    """Batches of either tenant and the rows they filed — mostly in their own collection and tenant, sometimes
    not — with reported counts near the rows actually loaded (equal, one off, or none expected)."""
    drafts = draw(st.lists(st.tuples(st.integers(0, TENANTS - 1), st.sampled_from(COLLECTIONS),
                                     st.sampled_from(("PENDING", "RUNNING", "COMPLETED", "COMPLETED", "FAILED")),
                                     st.booleans()), min_size=1, max_size=3))
    rows = []
    for index, (tenant, collection, _, _) in enumerate(drafts):
        for _ in range(draw(st.integers(0, 3))):
            table = draw(st.sampled_from((collection, collection, collection, *COLLECTIONS)))
            owner = draw(st.sampled_from((tenant, tenant, tenant, 1 - tenant)))
            rows.append(Row(table, owner, index))
    rows += draw(st.lists(st.builds(Row, st.sampled_from(COLLECTIONS), st.integers(0, TENANTS - 1), st.none()),
                          max_size=2))
    near = st.sampled_from((0, 0, 0, 1, -1))
    batches = []
    for index, (tenant, collection, status, stalled) in enumerate(drafts):
        loaded = sum(1 for r in rows if r.batch == index and r.table == collection)
        expected = draw(st.one_of(st.none(), near.map(lambda d: max(loaded + d, 0))))  # noqa: B023 (drawn now)
        processed = max(loaded + draw(near), 0)
        batches.append(Batch(tenant, collection, status, expected, processed, stalled))
    return batches, rows


INSERT_ROW = {
    "raw_signals": "INSERT INTO migration.raw_signals (tenant_id, firebase_id, batch_id, signal_type)"
                   " VALUES (%s, %s, %s, 'page.view')",
    "campaigns": "INSERT INTO migration.campaigns (tenant_id, firebase_id, batch_id, name, status)"
                 " VALUES (%s, %s, %s, 'launch', 'DRAFT')",
    "audit_logs": "INSERT INTO migration.audit_logs (tenant_id, firebase_id, batch_id, actor, action, occurred_at)"
                  " VALUES (%s, %s, %s, 'user:ana', 'campaign.create', now())",
}


def load(conn, make_tenant, backfill, statuses) -> list:
    """The tenants (one per status), their batches and the rows filed under them, written; the tenants' ids."""
    batches, rows = backfill
    tenants = [make_tenant(conn, status=status) for status in statuses]
    ids = []
    for b in batches:
        started = {"PENDING": None, "RUNNING": "2 hours" if b.stalled else "1 minute"}.get(b.status, "1 minute")
        ids.append(conn.execute(
            "INSERT INTO migration.batch_control (tenant_id, firebase_id, collection, status, expected_count,"
            " processed_count, started_at, finished_at) VALUES (%s, %s, %s, %s, %s, %s,"
            " now() - %s::interval, CASE WHEN %s IN ('COMPLETED', 'FAILED') THEN now() END) RETURNING id",
            (tenants[b.tenant], uuid.uuid4().hex, b.collection, b.status, b.expected, b.processed, started,
             b.status)).fetchone()[0])
    for r in rows:
        conn.execute(INSERT_ROW[r.table], (tenants[r.tenant], uuid.uuid4().hex,
                                           None if r.batch is None else ids[r.batch]))
    return tenants


STATUSES = st.tuples(*[st.sampled_from(("ACTIVE", "ACTIVE", "SUSPENDED", "CLOSED"))] * TENANTS)


@PROPERTY
@given(backfill=backfills(), statuses=STATUSES)
def test_the_backfill_report_equals_the_model(leadboost_example, make_tenant, backfill, statuses):
    """Invariant (backfill validation): for any batches (any tenant, collection, status, expected and processed
    counts) and the rows filed under them (in the batch's collection and tenant or not) or under none, every row
    of validate_migrated_data() — status and observed count — is the model's: a COMPLETED batch passes only if
    the rows it loaded equal both its processed and its expected count; a row passes only if its batch is of its
    collection and of its tenant; FAILED and stalled batches and rows of inactive tenants are warned about."""
    batches, rows = backfill
    with leadboost_example() as conn:
        load(conn, make_tenant, backfill, statuses)
        stated = {name: (status, observed) for name, status, observed, _ in conn.execute(
            "SELECT * FROM migration.validate_migrated_data()")}
        expected = report(batches, rows, {i for i, status in enumerate(statuses) if status != "ACTIVE"})
        assert stated == expected, f"the report says {stated}, the model {expected}"


@PROPERTY
@given(backfill=backfills(), statuses=STATUSES)
def test_each_tenants_report_equals_the_model_of_its_own_data(leadboost_example, make_tenant, backfill, statuses):
    """Invariant (backfill validation per tenant): for any batches and rows of two tenants, each tenant's
    validate_migrated_data(tenant) is the model's report of that tenant alone — its batches (counted with every
    row filed in them), its rows, and the other tenant's rows filed in its batches — so what the other tenant
    holds, filed correctly, never changes a tenant's report."""
    batches, rows = backfill
    with leadboost_example() as conn:
        tenants = load(conn, make_tenant, backfill, statuses)
        inactive = {i for i, status in enumerate(statuses) if status != "ACTIVE"}
        for index, tenant in enumerate(tenants):
            stated = {name: (status, observed) for name, status, observed, _ in conn.execute(
                "SELECT * FROM migration.validate_migrated_data(%s)", (tenant,))}
            expected = report(batches, rows, inactive, only=index)
            assert stated == expected, f"tenant {index}: the report says {stated}, the model {expected}"

"""A COMPLETED batch must have loaded the rows it expected, not only the rows it says it processed (issue 13,
behaviour 13: migration.validate_migrated_data ignoring expected_count passed the suite; the property
properties/test_migration_validation.py rarely draws a batch whose processed count is right and expected count
wrong). Checked in the whole report and in the batch's tenant's own."""
from __future__ import annotations

import uuid

import pytest

# (expected_count, processed_count) of a COMPLETED batch that loaded 2 rows, and whether the counts check fails
CASES = {"both right": (2, 2, False), "no expected count": (None, 2, False), "expected one more": (3, 2, True),
         "expected one fewer": (1, 2, True), "processed one more": (2, 3, True), "expected none loaded": (0, 2, True)}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("scope", ["whole report", "the tenant's report"])
def test_a_completed_batch_must_match_both_its_processed_and_its_expected_count(leadboost_conn, make_tenant, case,
                                                                                scope):
    expected, processed, fails = CASES[case]
    conn = leadboost_conn
    tenant = make_tenant(conn)
    batch = conn.execute(
        "INSERT INTO migration.batch_control (tenant_id, firebase_id, collection, status, expected_count,"
        " processed_count, started_at, finished_at) VALUES (%s, %s, 'raw_signals', 'COMPLETED', %s, %s, now(), now())"
        " RETURNING id, firebase_id", (tenant, f"batch-{uuid.uuid4().hex}", expected, processed)).fetchone()
    for n in range(2):
        conn.execute("INSERT INTO migration.raw_signals (tenant_id, firebase_id, batch_id, signal_type)"
                     " VALUES (%s, %s, %s, 'page.view')", (tenant, f"signal-{n}-{uuid.uuid4().hex}", batch[0]))
    only = None if scope == "whole report" else tenant
    status, observed, details = conn.execute(
        "SELECT status, observed, details FROM migration.validate_migrated_data(%s)"
        " WHERE check_name = 'completed_batches_counts_match'", (only,)).fetchone()
    assert (status, observed) == (("FAIL", 1) if fails else ("OK", 0))
    assert (batch[1] in details) is fails


def test_the_mismatched_batches_are_listed_in_firebase_id_order(leadboost_conn, make_tenant):
    """The report is deterministic: its details name the mismatched batches sorted by firebase_id, whatever the
    order they were written in."""
    conn = leadboost_conn
    tenant = make_tenant(conn)
    names = ["batch-c", "batch-a", "batch-b"]
    for name in names:
        conn.execute("INSERT INTO migration.batch_control (tenant_id, firebase_id, collection, status, expected_count,"
                     " processed_count, started_at, finished_at) VALUES (%s, %s, 'raw_signals', 'COMPLETED', 1, 1,"
                     " now(), now())", (tenant, name))
    details = conn.execute("SELECT details FROM migration.validate_migrated_data()"
                           " WHERE check_name = 'completed_batches_counts_match'").fetchone()[0]
    assert details.endswith(": " + ", ".join(sorted(names))), details

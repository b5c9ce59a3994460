"""A batch is stalled when it has been RUNNING for MORE than one hour (migration.validate_migrated_data's
stalled_batches; found by the mutation run: the hour made inclusive went unnoticed). now() is the transaction's
start, so the edge is exact inside one transaction."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

HOUR = dt.timedelta(hours=1)
TICK = dt.timedelta(microseconds=1)


@pytest.mark.parametrize(("running_for", "stalled"), [(HOUR - TICK, False), (HOUR, False), (HOUR + TICK, True)])
def test_a_batch_is_stalled_after_running_for_more_than_an_hour(leadboost_conn, make_tenant, running_for, stalled):
    tenant = make_tenant(leadboost_conn)
    with leadboost_conn.transaction(force_rollback=True):
        now = leadboost_conn.execute("SELECT now()").fetchone()[0]
        leadboost_conn.execute(
            "INSERT INTO migration.batch_control (tenant_id, firebase_id, collection, status, started_at)"
            " VALUES (%s, %s, 'raw_signals', 'RUNNING', %s)", (tenant, f"b-{uuid.uuid4().hex}", now - running_for))
        for only in (None, tenant):
            row = leadboost_conn.execute("SELECT status, observed FROM migration.validate_migrated_data(%s)"
                                         " WHERE check_name = 'stalled_batches'", (only,)).fetchone()
            assert row == (("WARN", 1) if stalled else ("OK", 0)), (running_for, only)

"""What the operator reads of issue 14 answer, now that they read one tenant by index: a tenant's migration
report and snapshot cleanup cover exactly that tenant (and the whole database without one, as in 1.0.0), the
stream summary is its first event and its head, and who may act unbound is decided as before."""
from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb


def _tenant(conn: psycopg.Connection, name: str, status: str = "ACTIVE") -> uuid.UUID:
    return conn.execute("INSERT INTO iam.tenants (name, status) VALUES (%s, %s) RETURNING id",
                        (name, status)).fetchone()[0]


def _batch(conn: psycopg.Connection, tenant: uuid.UUID, name: str, rows: int, reported: int,
           row_tenant: uuid.UUID | None = None) -> uuid.UUID:
    """A COMPLETED raw_signals batch that reports ``reported`` rows and holds ``rows`` (of ``row_tenant``)."""
    batch = conn.execute(
        "INSERT INTO migration.batch_control (tenant_id, firebase_id, collection, status, processed_count,"
        " started_at, finished_at) VALUES (%s, %s, 'raw_signals', 'COMPLETED', %s, now(), now()) RETURNING id",
        (tenant, name, reported)).fetchone()[0]
    conn.execute("INSERT INTO migration.raw_signals (tenant_id, firebase_id, batch_id, signal_type)"
                 " SELECT %s, %s || '-' || n, %s, 'web.visit' FROM generate_series(1, %s) AS n",
                 (row_tenant or tenant, name, batch, rows))
    return batch


def _report(conn: psycopg.Connection, *args) -> dict[str, tuple[str, int]]:
    call = "migration.validate_migrated_data(%s)" if args else "migration.validate_migrated_data()"
    return {name: (status, observed) for name, status, observed, _ in conn.execute(f"SELECT * FROM {call}", args)}


def test_a_tenants_migration_report_covers_that_tenant(leadboost_conn):
    """Each tenant's report counts its own batches and rows, plus other tenants' rows filed in its batches
    (misfiled for both); without a tenant the report covers every row, as in 1.0.0."""
    conn = leadboost_conn
    a, b, c = _tenant(conn, "report-a"), _tenant(conn, "report-b"), _tenant(conn, "report-c", "SUSPENDED")
    _batch(conn, a, "a-good", rows=5, reported=5)
    _batch(conn, a, "a-short", rows=3, reported=4)  # FAIL: reports a row it does not hold
    _batch(conn, a, "a-holds-b", rows=2, reported=2, row_tenant=b)  # b's rows in a's batch: misfiled
    _batch(conn, b, "b-good", rows=7, reported=7)
    _batch(conn, c, "c-good", rows=1, reported=1)  # rows of a suspended tenant: WARN

    assert _report(conn, a) == {
        "completed_batches_counts_match": ("FAIL", 1), "rows_match_their_batch": ("FAIL", 2),
        "failed_batches": ("OK", 0), "stalled_batches": ("OK", 0), "rows_of_inactive_tenants": ("OK", 0),
        "raw_signals_rows": ("OK", 8), "campaigns_rows": ("OK", 0), "audit_logs_rows": ("OK", 0)}
    report_b = _report(conn, b)
    assert (report_b["completed_batches_counts_match"], report_b["rows_match_their_batch"],
            report_b["raw_signals_rows"]) == (("OK", 0), ("FAIL", 2), ("OK", 9))
    assert _report(conn, c)["rows_of_inactive_tenants"] == ("WARN", 1)
    whole = _report(conn)
    assert (whole["completed_batches_counts_match"], whole["rows_match_their_batch"],
            whole["rows_of_inactive_tenants"], whole["raw_signals_rows"]) == \
        (("FAIL", 1), ("FAIL", 2), ("WARN", 1), ("OK", 18))
    assert _report(conn, uuid.uuid4())["raw_signals_rows"] == ("OK", 0)


def _snapshots(conn: psycopg.Connection, tenant: uuid.UUID, stream: str, count: int) -> None:
    for version in range(count):
        conn.execute("SELECT events.append_event(%s, %s, 'LEAD', 'LeadScored', %s, %s)",
                     (tenant, stream, Jsonb({"n": version}), version))
        conn.execute("SELECT events.create_snapshot(%s, %s)", (tenant, stream))


def _snapshot_versions(conn: psycopg.Connection, tenant: uuid.UUID) -> list[int]:
    return [row[0] for row in conn.execute(
        "SELECT version FROM events.snapshots WHERE tenant_id = %s ORDER BY stream_id, version", (tenant,))]


def test_a_tenants_snapshot_cleanup_leaves_other_tenants(leadboost_conn):
    """cleanup_old_snapshots(keep, tenant) deletes that tenant's old snapshots only; without a tenant, every
    tenant's, as in 1.0.0; either way the latest ``keep`` of every stream stay."""
    conn = leadboost_conn
    a, b = _tenant(conn, "cleanup-a"), _tenant(conn, "cleanup-b")
    for tenant in (a, b):
        _snapshots(conn, tenant, "lead-1", 6)
        _snapshots(conn, tenant, "lead-2", 2)
    assert conn.execute("SELECT events.cleanup_old_snapshots(3, %s)", (a,)).fetchone() == (3,)
    assert _snapshot_versions(conn, a) == [4, 5, 6, 1, 2]
    assert _snapshot_versions(conn, b) == [1, 2, 3, 4, 5, 6, 1, 2]
    assert conn.execute("SELECT events.cleanup_old_snapshots(1)").fetchone() == (2 + 1 + 5 + 1,)
    assert _snapshot_versions(conn, a) == [6, 2]
    assert _snapshot_versions(conn, b) == [6, 2]


def test_stream_summary_is_its_first_event_and_its_head(leadboost_conn):
    """Every column as the events define it: the count and current version are the head's version (gapless),
    the time span runs from the first event's occurred_at to the head's — also when a caller gave them out
    of order, where min/max of occurred_at would differ — the last position is the head's."""
    conn = leadboost_conn
    tenant = _tenant(conn, "summary")
    times = ["2026-03-01T10:00:00Z", "2026-01-01T10:00:00Z", "2026-02-01T10:00:00Z"]
    for version, at in enumerate(times):
        conn.execute("SELECT events.append_event(%s, 'lead-9', 'LEAD', 'LeadScored', '{}', %s, '{}', NULL, %s)",
                     (tenant, version, at))
    conn.execute("SELECT events.create_snapshot(%s, 'lead-9', 2)", (tenant,))
    events = conn.execute("SELECT version, occurred_at, global_position FROM events.event_store"
                          " WHERE tenant_id = %s ORDER BY version", (tenant,)).fetchall()
    summary = conn.execute("SELECT stream_id, stream_type, current_version, event_count, first_occurred_at,"
                           " last_occurred_at, last_global_position, latest_snapshot_version"
                           " FROM events.stream_summary WHERE tenant_id = %s", (tenant,)).fetchall()
    assert summary == [("lead-9", "LEAD", 3, 3, events[0][1], events[2][1], events[2][2], 2)]


@pytest.mark.parametrize(("attributes", "unrestricted"), [
    ("SUPERUSER", True), ("BYPASSRLS", True), ("", False)])
def test_who_may_act_unbound(leadboost_conn, attributes, unrestricted):
    """iam.calling_role_is_unrestricted follows SET ROLE (the superuser shortcut reads is_superuser, which a
    SET ROLE to a plain role turns off), also inside a SECURITY DEFINER function owned by a superuser."""
    conn = leadboost_conn
    role = f"lb_probe_{uuid.uuid4().hex[:8]}"
    tenant = _tenant(conn, f"unbound-{role}")
    conn.execute(f"CREATE ROLE {role} {attributes} IN ROLE leadboost_app")
    try:
        conn.execute(f"SET ROLE {role}")
        try:
            conn.execute("SELECT events.append_event(%s, 'lead-1', 'LEAD', 'LeadScored', '{}', 0)", (tenant,))
            acted = True
        except psycopg.Error as refused:
            assert refused.sqlstate == "LB003"
            acted = False
        conn.execute("RESET ROLE")
        assert acted is unrestricted
    finally:
        conn.rollback() if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR else None
        conn.execute("RESET ROLE")
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")

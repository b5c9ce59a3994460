"""Every way to change a ledger or event-store row is refused — UPDATE, DELETE, TRUNCATE (also cascading from
iam.tenants), INSERT … ON CONFLICT DO UPDATE, MERGE — as the owner, as the owner in replica mode, and as
leadboost_app before and after the document's troubleshooting GRANT block; and the rows stay as they were."""
from __future__ import annotations

import psycopg
import pytest

from contracts.test_document_queries import ACME, GRANT_APP, run

CHANGES = {
    "finanzas.ledger_entries": {
        "update": "UPDATE finanzas.ledger_entries SET amount = amount + 1",
        "update nothing": "UPDATE finanzas.ledger_entries SET amount = amount WHERE false",
        "delete": "DELETE FROM finanzas.ledger_entries",
        "truncate": "TRUNCATE finanzas.ledger_entries",
        "upsert": "INSERT INTO finanzas.ledger_entries OVERRIDING SYSTEM VALUE SELECT * FROM finanzas.ledger_entries"
                  " ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount + 1",
        "merge delete": "MERGE INTO finanzas.ledger_entries AS t USING finanzas.ledger_entries AS s ON t.id = s.id"
                 " WHEN MATCHED THEN DELETE",
    },
    "finanzas.transactions": {
        "update": "UPDATE finanzas.transactions SET description = 'changed'",
        "delete": "DELETE FROM finanzas.transactions",
        "truncate": "TRUNCATE finanzas.transactions CASCADE",
    },
    "events.event_store": {
        "update": "UPDATE events.event_store SET payload = '{}'",
        "delete": "DELETE FROM events.event_store",
        "truncate": "TRUNCATE events.event_store CASCADE",
        "upsert": "INSERT INTO events.event_store OVERRIDING SYSTEM VALUE SELECT * FROM events.event_store"
                  " ON CONFLICT (tenant_id, event_id) DO UPDATE SET payload = '{}'",
        "merge update": "MERGE INTO events.event_store AS t USING events.event_store AS s ON t.global_position ="
                 " s.global_position WHEN MATCHED THEN UPDATE SET payload = '{}'",
    },
    "iam.tenants": {"truncate cascading to the ledger": "TRUNCATE iam.tenants CASCADE"},
}
CASES = [(table, kind, sql) for table, kinds in CHANGES.items() for kind, sql in kinds.items()]
ROLES = ["owner", "owner in replica mode", "leadboost_app", "leadboost_app after the troubleshooting grants"]


def fingerprint(conn: psycopg.Connection) -> tuple:
    return tuple(conn.execute(f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                              f" FROM {table} AS t").fetchone()
                 for table in ("finanzas.ledger_entries", "finanzas.transactions", "events.event_store"))


def expected_sqlstates(role: str, table: str, kind: str) -> set[str]:
    if role.startswith("owner"):
        return {"LB901"}
    # The application role is not even allowed to try: the troubleshooting block's UPDATE is taken back at once by
    # the event trigger leadboost_withhold_app_write_privileges (UPDATE would also let it LOCK the table).
    return {"42501"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("table", "kind", "change"), CASES, ids=[f"{t}:{k}" for t, k, _ in CASES])
def test_every_change_is_refused(leadboost_seeded_conn, as_app, role, table, kind, change):
    conn = leadboost_seeded_conn
    before = fingerprint(conn)
    if role == "leadboost_app after the troubleshooting grants":
        run(conn, GRANT_APP)
    if role.startswith("leadboost_app"):
        with as_app(conn, ACME), pytest.raises(psycopg.Error) as refused:
            conn.execute(change)
    else:
        if role == "owner in replica mode":  # triggers that are merely ENABLEd do not fire in replica mode
            conn.execute("SET session_replication_role = replica")
        with pytest.raises(psycopg.Error) as refused:
            conn.execute(change)
        conn.execute("RESET session_replication_role")
    assert refused.value.sqlstate in expected_sqlstates(role, table, kind), refused.value
    assert fingerprint(conn) == before


def test_snapshots_cannot_be_updated(leadboost_seeded_conn):
    with pytest.raises(psycopg.Error) as refused:
        leadboost_seeded_conn.execute("UPDATE events.snapshots SET state = '{}'")
    assert refused.value.sqlstate == "LB901"


def test_the_app_cannot_alter_or_disable_the_triggers(leadboost_seeded_conn, as_app):
    run(leadboost_seeded_conn, GRANT_APP)
    with as_app(leadboost_seeded_conn, ACME) as conn:
        for statement in ("ALTER TABLE finanzas.ledger_entries DISABLE TRIGGER ledger_entries_append_only",
                          "ALTER TABLE events.event_store DISABLE TRIGGER ALL",
                          "DROP TRIGGER event_store_append_only ON events.event_store",
                          "SET session_replication_role = replica"):
            with pytest.raises(psycopg.Error) as refused:
                conn.execute(statement)
            assert refused.value.sqlstate == "42501", statement


def test_a_tenant_with_data_cannot_be_deleted(leadboost_seeded_conn):
    with pytest.raises(psycopg.Error) as refused:
        leadboost_seeded_conn.execute("DELETE FROM iam.tenants WHERE id = %s", (ACME,))
    # foreign_key_violation up to PostgreSQL 17; 18 reports ON DELETE RESTRICT as restrict_violation.
    assert refused.value.sqlstate in {"23503", "23001"}

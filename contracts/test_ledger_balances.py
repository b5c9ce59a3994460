"""Stored balances (issue 14.1): every route that writes legs — post_transaction, reverse_transaction, direct DML by
the owner or by leadboost_app after the troubleshooting GRANT block — moves finanzas.account_balances in the same
statement; postings to one hot account do not wait for each other; nothing else can write the stored rows; and
the invariant the fault and stress tests check notices a stored balance that drifted."""
from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from contracts.test_document_queries import GRANT_APP
from contracts.test_document_queries import run as run_block
from leadboost_schema.testing.invariants import violations

LEGS = json.dumps([{"account_type": "CASH", "amount": 12.5, "direction": 1},
                   {"account_type": "REVENUE", "amount": 10, "direction": -1},
                   {"account_type": "TAX_PAYABLE", "amount": 2.5, "direction": -1}])
LEG = ("INSERT INTO finanzas.ledger_entries (tenant_id, transaction_id, account_type, amount, direction, currency)"
       " VALUES (%s, %s, %s, %s, %s, 'EUR')")


def stored(conn: psycopg.Connection, tenant: uuid.UUID) -> dict:
    return {row[0]: row[1:] for row in conn.execute(
        "SELECT account_type, balance, total_debits, total_credits, entry_count FROM finanzas.account_balances"
        " WHERE tenant_id = %s", (tenant,))}


def from_legs(conn: psycopg.Connection, tenant: uuid.UUID) -> dict:
    return {row[0]: row[1:] for row in conn.execute(
        "SELECT account_type, sum(amount * direction), coalesce(sum(amount) FILTER (WHERE direction = 1), 0),"
        " coalesce(sum(amount) FILTER (WHERE direction = -1), 0), count(*) FROM finanzas.ledger_entries"
        " WHERE tenant_id = %s GROUP BY account_type", (tenant,))}


def post(conn, tenant):
    conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS))


def reverse(conn, tenant):
    posting = conn.execute("SELECT finanzas.post_transaction(%s, %s)", (tenant, LEGS)).fetchone()[0]
    conn.execute("SELECT finanzas.reverse_transaction(%s, %s)", (tenant, posting))


def direct(conn, tenant):
    posting = uuid.uuid4()
    conn.execute("INSERT INTO finanzas.transactions (id, tenant_id, currency) VALUES (%s, %s, 'EUR')",
                 (posting, tenant))
    conn.execute(LEG, (tenant, posting, "BANK", 40, 1))
    conn.execute(LEG, (tenant, posting, "EQUITY", 40, -1))
    conn.execute(LEG.replace("VALUES (%s, %s, %s, %s, %s, 'EUR')", "SELECT %s, %s, a, 1, d, 'EUR' FROM"
                             " (VALUES ('CASH', 1), ('CASH', -1)) AS l (a, d)"), (tenant, posting))


ROUTES = {"post_transaction": post, "reverse_transaction": reverse, "direct DML": direct}


@pytest.mark.parametrize("writer", ["owner", "leadboost_app after the GRANT block"])
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_every_route_moves_the_stored_balance_in_the_same_transaction(leadboost_conn, make_tenant, route, writer):
    """Inside the writing transaction (before COMMIT) and after it, the stored balances equal the legs."""
    conn, tenant = leadboost_conn, make_tenant(leadboost_conn)
    post(conn, tenant)  # balances to add to
    if writer != "owner":
        run_block(conn, GRANT_APP)
        conn.execute("SET ROLE leadboost_app")
    conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))
    try:
        with conn.transaction():
            ROUTES[route](conn, tenant)
            inside = stored(conn, tenant), from_legs(conn, tenant)
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET app.tenant_id")
    assert inside[0] == inside[1] and inside[0], inside
    assert stored(conn, tenant) == from_legs(conn, tenant)


def test_postings_to_one_hot_account_do_not_wait_for_each_other(leadboost_conn, leadboost_dsn, make_tenant):
    """Three open transactions posting to the same two accounts: none waits (lock_timeout 1 s would end it with
    55P03); each takes a shard row of its own; after the commits the balance is their sum."""
    tenant = make_tenant(leadboost_conn)
    post(leadboost_conn, tenant)
    sessions = [psycopg.connect(leadboost_dsn) for _ in range(3)]
    try:
        for session in sessions:
            session.execute("SET lock_timeout = '1s'")
            post(session, tenant)
        shards = leadboost_conn.execute("SELECT count(*) FROM finanzas.account_balance_shards"
                                        " WHERE tenant_id = %s AND account_type = 'CASH'", (tenant,)).fetchone()[0]
        for session in sessions:
            session.commit()
    finally:
        for session in sessions:
            session.close()
    assert shards == 1  # the three new shard rows are not committed yet: the committed one is the first posting's
    assert stored(leadboost_conn, tenant)["CASH"][0] == 4 * 12.5
    assert stored(leadboost_conn, tenant) == from_legs(leadboost_conn, tenant)
    assert leadboost_conn.execute("SELECT count(*) FROM finanzas.account_balance_shards"
                                  " WHERE tenant_id = %s AND account_type = 'CASH'", (tenant,)).fetchone()[0] <= 4


@pytest.mark.parametrize("writer", ["owner", "leadboost_app after the GRANT block"])
@pytest.mark.parametrize("statement", [
    "UPDATE finanzas.account_balance_shards SET total_credits = 0 WHERE tenant_id = %(t)s",
    "DELETE FROM finanzas.account_balance_shards WHERE tenant_id = %(t)s",
    "INSERT INTO finanzas.account_balance_shards (tenant_id, account_type, currency, shard, total_debits,"
    " entry_count, last_posted_at) VALUES (%(t)s, 'CASH', 'EUR', 7, 100, 1, now())",
])
def test_stored_balances_cannot_be_written_directly(leadboost_conn, make_tenant, writer, statement):
    conn, tenant = leadboost_conn, make_tenant(leadboost_conn)
    post(conn, tenant)
    before = stored(conn, tenant)
    if writer != "owner":
        run_block(conn, GRANT_APP)
        conn.execute("GRANT DELETE ON finanzas.account_balance_shards TO leadboost_app")
        conn.execute("SET ROLE leadboost_app")
    conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant),))
    try:
        with pytest.raises(psycopg.Error) as refused:
            conn.execute(statement, {"t": tenant})
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET app.tenant_id")
    # The owner meets the trigger (LB112); leadboost_app meets the privileges the event trigger takes back after
    # every GRANT (42501) first, or the trigger where a privilege is left.
    assert refused.value.sqlstate in ({"LB112"} if writer == "owner" else {"LB112", "42501"})
    assert stored(conn, tenant) == before


def test_the_invariant_notices_a_stored_balance_that_drifted(leadboost_conn, make_tenant):
    """The fault and stress tests rely on invariants.violations(): with the balance trigger switched off by the
    owner, a posting leaves the stored balance behind and the invariant names it."""
    conn, tenant = leadboost_conn, make_tenant(leadboost_conn)
    post(conn, tenant)
    assert "stored balances equal the legs" not in violations(conn)
    conn.execute("ALTER TABLE finanzas.ledger_entries DISABLE TRIGGER ledger_entries_balances")
    post(conn, tenant)
    assert {row[0] for row in violations(conn)["stored balances equal the legs"]} == {tenant}

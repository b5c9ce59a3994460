"""Who may choose a ledger entry id (finanzas.check_entry_transaction_open): a restricted role never (LB113) —
however its session spells the tenant binding (upper case, braces, no hyphens are the same tenant) — and an
unrestricted one (the owner restoring or backfilling rows) may. Found by the mutation run: a trigger that
recognised the bound tenant only by the binding's exact text let a differently spelled binding skip the check,
and one that forgot the unrestricted exemption refused the owner; the suite noticed neither."""
from __future__ import annotations

import uuid

import psycopg
import pytest

HEADER = "INSERT INTO finanzas.transactions (id, tenant_id, currency) VALUES (%s, %s, 'EUR')"
CHOSEN_LEG = ("INSERT INTO finanzas.ledger_entries (id, tenant_id, transaction_id, account_type, amount, direction,"
              " currency) OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s, %s, 1, %s, 'EUR')")
SPELLINGS = {"as stored": str, "upper case": lambda t: str(t).upper(), "in braces": lambda t: f"{{{t}}}",
             "without hyphens": lambda t: t.hex}


def _post_with_chosen_ids(conn: psycopg.Connection, tenant: uuid.UUID) -> str | None:
    """A balanced posting whose two legs carry ids far above the sequence; the SQLSTATE it ends with, or None."""
    header = uuid.uuid4()
    try:
        with conn.transaction():
            conn.execute(HEADER, (header, tenant))
            for offset, (account, direction) in enumerate((("CASH", 1), ("REVENUE", -1))):
                conn.execute(CHOSEN_LEG, (10**12 + offset, tenant, header, account, direction))
    except psycopg.Error as refused:
        return refused.sqlstate
    return None


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_restricted_role_cannot_choose_entry_ids_whatever_the_bindings_spelling(leadboost_conn, spelling: str):
    conn = leadboost_conn
    tenant = conn.execute("INSERT INTO iam.tenants (name) VALUES (%s) RETURNING id",
                          (f"ids-{uuid.uuid4().hex[:6]}",)).fetchone()[0]
    # As a database that granted the direct INSERTs (the block keeps them): the trigger is then the guard.
    conn.execute("GRANT INSERT ON finanzas.transactions, finanzas.ledger_entries TO leadboost_app")
    conn.execute("SET ROLE leadboost_app")
    conn.execute("SELECT set_config('app.tenant_id', %s, false)", (SPELLINGS[spelling](tenant),))
    try:
        refused = _post_with_chosen_ids(conn, tenant)
    finally:
        conn.execute("RESET ROLE")
        conn.execute("RESET app.tenant_id")
    assert refused == "LB113"


def test_an_unrestricted_role_may_choose_entry_ids(leadboost_conn):
    conn = leadboost_conn
    tenant = conn.execute("INSERT INTO iam.tenants (name) VALUES (%s) RETURNING id",
                          (f"ids-{uuid.uuid4().hex[:6]}",)).fetchone()[0]
    assert _post_with_chosen_ids(conn, tenant) is None
    assert conn.execute("SELECT count(*) FROM finanzas.ledger_entries WHERE tenant_id = %s AND id >= %s",
                        (tenant, 10**12)).fetchone()[0] == 2

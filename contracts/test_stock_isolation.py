"""A refused stock change answers with the caller's own item, never with another tenant's item of the same sku.

Kills mutant ``003_schema_stock.sql:112:conjunct:a5f5b7d6`` (the tenant condition dropped from the read that
explains a refusal in ``stock.change_reservation``): it survived every test, because no test had one sku in two
tenants. With it, a tenant without the sku got another tenant's version and quantities instead of LB201, and a stale
caller could read another tenant's stock.
"""
from __future__ import annotations

import psycopg
import pytest

FUNCTIONS = ["stock.reserve_inventory", "stock.release_inventory"]
ITEM = ("INSERT INTO stock.inventory_items (tenant_id, sku, quantity_on_hand, quantity_reserved)"
        " VALUES (%s, 'SKU-1', %s, %s)")


@pytest.fixture
def same_sku_in_two_tenants(leadboost_conn, make_tenant):
    """B (written first, so a read without the tenant meets B's row first) and A hold 'SKU-1'; C holds nothing.
    A's item is at version 2 after one reservation."""
    conn = leadboost_conn
    a, b, c = (make_tenant(conn) for _ in range(3))
    conn.execute(ITEM, (b, 900, 400))
    conn.execute(ITEM, (a, 5, 0))
    assert conn.execute("SELECT success FROM stock.reserve_inventory(%s, 'SKU-1', 2, 1)", (a,)).fetchone() == (True,)
    return a, b, c


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_tenant_without_the_sku_gets_unknown_item(leadboost_conn, same_sku_in_two_tenants, function):
    """C has no 'SKU-1': LB201, whatever A and B hold, and nothing of theirs changes."""
    _, _, c = same_sku_in_two_tenants
    with pytest.raises(psycopg.Error) as refused:
        leadboost_conn.execute(f"SELECT * FROM {function}(%s, 'SKU-1', 1, 1)", (c,))
    assert refused.value.sqlstate == "LB201"
    items = leadboost_conn.execute("SELECT version, quantity_on_hand, quantity_reserved FROM stock.inventory_items"
                                   " ORDER BY quantity_on_hand").fetchall()
    assert items == [(2, 5, 2), (1, 900, 400)]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_stale_call_answers_with_the_callers_item(leadboost_conn, same_sku_in_two_tenants, function):
    """A calls with version 1 (B's item is at version 1, A's at 2): STALE_VERSION with A's version and quantities."""
    a, _, _ = same_sku_in_two_tenants
    row = leadboost_conn.execute(f"SELECT * FROM {function}(%s, 'SKU-1', 1, 1)", (a,)).fetchone()
    assert row == (False, "STALE_VERSION", 2, 5, 2)

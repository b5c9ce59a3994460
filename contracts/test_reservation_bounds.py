"""The bounds of a reservation, exhaustively on small items (found by the mutation run: a lower bound of 1 instead
of 0 went unnoticed): stock.reserve_inventory and stock.release_inventory (stock.change_reservation) move
quantity_reserved within 0..quantity_on_hand, both ends included — reserving every unreserved unit and releasing
every reserved one succeed; one unit more is refused (INSUFFICIENT_STOCK, INSUFFICIENT_RESERVED) and changes
nothing."""
from __future__ import annotations

CASES = [(on_hand, reserved, quantity, function)
         for on_hand in range(4) for reserved in range(on_hand + 1) for quantity in range(1, 5)
         for function in ("reserve_inventory", "release_inventory")]


def test_a_reservation_stays_within_0_and_the_quantity_on_hand_both_included(leadboost_conn, make_tenant):
    """Invariant, for every item of up to 3 units, every reserved count and every quantity up to 4: the call
    succeeds exactly when the new reserved count is in [0, on_hand], and then moves it by the quantity; a refused
    call names the missing units and leaves the item as it was (version included)."""
    conn = leadboost_conn
    tenant = make_tenant(conn)
    for n, (on_hand, reserved, quantity, function) in enumerate(CASES):
        sku = f"EDGE-{n}"
        conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, name, quantity_on_hand, quantity_reserved)"
                     " VALUES (%s, %s, 'edge', %s, %s)", (tenant, sku, on_hand, reserved))
        wanted = reserved + quantity * (1 if function == "reserve_inventory" else -1)
        fits = 0 <= wanted <= on_hand
        row = conn.execute(f"SELECT success, reason, current_version, quantity_on_hand, quantity_reserved"
                           f" FROM stock.{function}(%s, %s, %s, 1)", (tenant, sku, quantity)).fetchone()
        missing = "INSUFFICIENT_STOCK" if function == "reserve_inventory" else "INSUFFICIENT_RESERVED"
        expected = (True, "OK", 2, on_hand, wanted) if fits else (False, missing, 1, on_hand, reserved)
        assert row == expected, (on_hand, reserved, quantity, function)
        stored = conn.execute("SELECT version, quantity_on_hand, quantity_reserved FROM stock.inventory_items"
                              " WHERE tenant_id = %s AND sku = %s", (tenant, sku)).fetchone()
        assert stored == expected[2:], (on_hand, reserved, quantity, function)

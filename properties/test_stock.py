"""Optimistic locking: interleaved reserve/release calls carrying the versions their callers read."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from leadboost_schema.testing import strategies as lb
from leadboost_schema.testing.interleaving import Step
from properties.broken_variants import RESERVE_WITHOUT_VERSION_CHECK, install
from properties.hypothesis_settings import PROPERTY, find_counterexample
from properties.models.stock import Item
from properties.transactions import assert_errors_among, committed, make_scripts, outcomes, scenario, story_of

REAL = "stock"
BROKEN = "broken"

# Read the item's version, or call reserve/release with (last version read + offset).
operation = st.one_of(st.just(("read",)), lb.make_stock_operation())


def stock_steps(tenant, sku: str, functions: str, seen: dict[str, int]):
    def read(session: str) -> Step:
        def action(conn):
            seen[session] = conn.execute("SELECT version FROM stock.inventory_items WHERE tenant_id = %s"
                                         " AND sku = %s", (tenant, sku)).fetchone()[0]
            return seen[session]
        return Step("read", action)

    def call(session: str, kind: str, quantity: int, offset: int) -> Step:
        def action(conn):
            expected = seen[session] + offset
            row = conn.execute(f"SELECT * FROM {functions}.{kind}_inventory(%s, %s, %s, %s)",
                               (tenant, sku, quantity, expected)).fetchone()
            return (expected, *row)
        return Step(f"{kind} {quantity}{'' if offset == 0 else ' stale'}", action)

    def step_of(session: str, op) -> Step:
        return read(session) if op == ("read",) else call(session, *op)
    return step_of


def stock_scenario(conn, tenant, row: dict, scripts, functions: str = REAL):
    """Insert the item for ``tenant`` and return the scenario of the scripts against it."""
    conn.execute("INSERT INTO stock.inventory_items (tenant_id, sku, quantity_on_hand, quantity_reserved)"
                 " VALUES (%s, %s, %s, %s)", (tenant, row["sku"], row["quantity_on_hand"],
                                              row["quantity_reserved"]))
    return scenario(scripts, stock_steps(tenant, row["sku"], functions, dict.fromkeys(scripts, 1)))


def check_optimistic_locking(scheduler, conn, make_tenant, data, functions: str) -> None:
    tenant = make_tenant(conn)
    row = data.draw(lb.make_inventory_item(), label="item")
    scripts = data.draw(make_scripts(operation, tuple(scheduler.names), max_transactions=2), label="scripts")
    trace = scheduler.run(stock_scenario(conn, tenant, row, scripts, functions), data)
    assert_errors_among(trace, set())

    for outcome in outcomes(trace, scripts):
        for op, event in zip(outcome.transaction.ops, outcome.events, strict=True):
            if op != ("read",):
                expected, success, reason, version, _, _ = event.result
                assert success or (reason == "STALE_VERSION") == (version != expected), (
                    f"{outcome.session}.{event.step} said {reason} at version {version}, expected {expected}"
                    f"\n{trace}")
    item = Item(row["quantity_on_hand"], row["quantity_reserved"])
    for outcome in committed(trace, scripts):
        for op, event in zip(outcome.transaction.ops, outcome.events, strict=True):
            if op == ("read",) or not event.result[1]:
                continue  # a failed call changes nothing: the final row and version below prove it
            expected, _, _, version, on_hand, reserved = event.result
            applied, why = item.change(op[0], op[1], expected)
            assert applied and (version, on_hand, reserved) == (item.version, item.on_hand, item.reserved), (
                f"{outcome.session}.{event.step} with version {expected} succeeded; the model says {why}, "
                f"version {item.version}, reserved {item.reserved}\n{trace}")
    final = conn.execute("SELECT quantity_on_hand, quantity_reserved, version FROM stock.inventory_items"
                         " WHERE tenant_id = %s", (tenant,)).fetchone()
    assert final == (item.on_hand, item.reserved, item.version), (
        f"item is {final}, the model says {(item.on_hand, item.reserved, item.version)}\n{trace}")


@PROPERTY
@given(data=st.data())
def test_interleaved_reservations_equal_the_model(two_sessions, leadboost_conn, make_tenant, data):
    """Invariant (optimistic locking): for any interleaving of reserve/release calls carrying the version their
    caller read (or a stale one), in transactions that commit or roll back: a call whose version is stale
    changes nothing and says STALE_VERSION; committed successful calls, replayed in commit order, are exactly
    the model's; reserved never exceeds on hand; version = 1 + the number of committed successful calls."""
    check_optimistic_locking(two_sessions, leadboost_conn, make_tenant, data, REAL)


@PROPERTY
@given(data=st.data())
def test_three_sessions_reserving_one_item_equal_the_model(three_sessions, leadboost_conn, make_tenant, data):
    """Invariant (optimistic locking, three-way contention on one row): as with two sessions."""
    check_optimistic_locking(three_sessions, leadboost_conn, make_tenant, data, REAL)


def test_a_reserve_without_the_version_check_is_caught(two_sessions, leadboost_conn, make_tenant):
    """The property can fail: without the version check a stale call succeeds; Hypothesis finds it and
    shrinks it to one stale call."""
    install(leadboost_conn, RESERVE_WITHOUT_VERSION_CHECK)

    failure = find_counterexample(
        lambda data: check_optimistic_locking(two_sessions, leadboost_conn, make_tenant, data, BROKEN),
        match="succeeded; the model says STALE_VERSION")
    assert len(story_of(failure)) <= 5, f"not shrunk to a short story:\n{failure}"

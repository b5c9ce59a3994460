"""The governance rules at their edges (found by the mutation run: each edge below could move by one step, or a
comparison become inclusive, with every other test passing).

* An action name is at most 100 characters (LB301 past it) — gobernanza.assert_action_argument, behind every
  gobernanza function.
* validate_action's amount is >= 0, < 1e15, with at most 4 decimals (LB302 otherwise).
* The active_policies view counts a window's consumption while the window runs: from window_started_at up to,
  not including, window_started_at + window_seconds; before any window and once it has ended it shows 0."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest

AT = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
TICK = dt.timedelta(microseconds=1)


def _verdict(conn, tenant, action: str, amount: Decimal = Decimal(0)):
    return conn.execute("SELECT allowed, reason FROM gobernanza.validate_action(%s, %s, %s, %s)",
                        (tenant, action, amount, AT)).fetchone()


@pytest.mark.parametrize(("length", "refused"), [(99, False), (100, False), (101, True), (102, True)])
def test_an_action_name_is_at_most_100_characters(leadboost_conn, make_tenant, length: int, refused: bool):
    tenant = make_tenant(leadboost_conn)
    action = "a" * length
    if refused:
        with pytest.raises(psycopg.Error) as error:
            _verdict(leadboost_conn, tenant, action)
        assert error.value.sqlstate == "LB301"
    else:
        assert _verdict(leadboost_conn, tenant, action) == (True, "NO_POLICY")


@pytest.mark.parametrize(("amount", "refused"), [
    ("0", False), ("0.0001", False), ("999999999999999.9999", False),
    ("-0.0001", True), ("1000000000000000", True), ("1000000000000000.0001", True), ("1000000000000001", True),
    ("0.00001", True), ("1.00009", True)])
def test_an_amount_is_from_0_up_to_before_1e15_with_at_most_4_decimals(leadboost_conn, make_tenant, amount: str,
                                                                       refused: bool):
    tenant = make_tenant(leadboost_conn)
    if refused:
        with pytest.raises(psycopg.Error) as error:
            _verdict(leadboost_conn, tenant, "ads.spend", Decimal(amount))
        assert error.value.sqlstate == "LB302"
    else:
        assert _verdict(leadboost_conn, tenant, "ads.spend", Decimal(amount)) == (True, "NO_POLICY")


WINDOW = 60
# The window's start relative to now() → the consumption the view shows (the policy has consumed 7).
STARTS = {"no window yet": (None, 0), "started now": (dt.timedelta(0), 7),
          "ends a microsecond after now": (-dt.timedelta(seconds=WINDOW) + TICK, 7),
          "ends at now": (-dt.timedelta(seconds=WINDOW), 0),
          "ended a microsecond before now": (-dt.timedelta(seconds=WINDOW) - TICK, 0)}


@pytest.mark.parametrize("start", STARTS)
def test_the_view_shows_a_windows_consumption_only_while_it_runs(leadboost_conn, make_tenant, start: str):
    """now() is the transaction's start, so the window's edges are placed on it exactly."""
    offset, shown = STARTS[start]
    tenant = make_tenant(leadboost_conn)
    with leadboost_conn.transaction(force_rollback=True):
        now = leadboost_conn.execute("SELECT now()").fetchone()[0]
        leadboost_conn.execute(
            "INSERT INTO gobernanza.policies (tenant_id, name, policy_type, action, limit_value, window_seconds,"
            " window_started_at, window_consumed, valid_from) VALUES (%s, 'spend', 'SPEND_LIMIT', 'ads.spend', 100,"
            " %s, %s, 7, %s)", (tenant, WINDOW, None if offset is None else now + offset, now - dt.timedelta(days=1)))
        consumed = leadboost_conn.execute("SELECT consumed_in_window FROM gobernanza.active_policies"
                                          " WHERE tenant_id = %s", (tenant,)).fetchone()[0]
    assert consumed == shown

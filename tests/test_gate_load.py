"""Check 5 of the gate, blocked time under load: an upgrade that holds ACCESS EXCLUSIVE on a hot table longer
than the threshold is reported with the calls it blocked; a harmless change blocks nothing and errs nothing."""
from __future__ import annotations

from leadboost_schema.gate.load import check_under_load


def test_a_long_exclusive_lock_on_a_hot_table_blocks_calls_over_the_threshold(gate_change):
    """The upgrade (not the test) holds finanzas.transactions for 1.5 s; postings wait for it."""
    plan, dbs = gate_change("hold_transactions_lock.sql")
    result = check_under_load(dbs, plan, max_blocked_s=1.0, clients=2)
    blocked = [f for f in result.findings if f.severity == "error" and "blocked over 1 s" in f.message]
    assert blocked, [f.message for f in result.findings]
    assert any("finanzas.post_transaction" in f.message for f in blocked)
    assert all(f.where.startswith(plan.new_upgrades[-1].name) for f in blocked)
    assert result.figures["max blocked ms"] > 1000
    # Blocked time per upgrade: the wait is the holding upgrade's, not its neighbours'.
    per_upgrade = {row["upgrade"]: row for row in result.figures["blocked by upgrade"]}
    assert list(per_upgrade) == [u.name for u in plan.new_upgrades]
    assert per_upgrade[plan.new_upgrades[-1].name]["max blocked ms"] > 1000
    assert all(row["max blocked ms"] < 1000 for name, row in per_upgrade.items() if name != plan.new_upgrades[-1].name)
    assert not result.passed


def test_a_harmless_change_blocks_no_call_over_the_threshold(gate_change):
    plan, dbs = gate_change("not_null_without_default_safe.sql")
    result = check_under_load(dbs, plan, max_blocked_s=1.0, clients=2)
    assert result.passed, [f.message for f in result.findings]
    assert result.figures["calls during the upgrade"] > 0 and result.figures["errors"] == 0
    assert result.figures["max blocked ms"] <= 1000

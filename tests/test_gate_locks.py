"""Check 4 of the gate, the lock trace: each unsafe corpus change is caught by the right finding of check_locks,
with its severity, where (file:line) and the safe pattern; its safe variant (``<name>_safe.sql``) has no error."""
from __future__ import annotations

import pytest

from leadboost_schema.gate.locks import check_locks

UNSAFE = {
    "rewrite_ledger_type.sql": ("rewrites finanzas.ledger_entries", "expand/contract"),
    "not_null_without_default.sql": ("fails on the filled base of the previous release: 23502", "backfill"),
    "fk_validated_in_one_step.sql": ("FOREIGN KEY validated in one step on migration.raw_signals", "NOT VALID"),
    "plain_index_event_store.sql": ("CREATE INDEX without CONCURRENTLY on events.event_store", "CONCURRENTLY"),
    "check_tightened_violated.sql": ("fails on the filled base of the previous release: 23514", "fix the rows first"),
}


def _errors(result):
    return [f for f in result.findings if f.severity == "error"]


@pytest.mark.parametrize("example", sorted(UNSAFE))
def test_an_unsafe_change_is_caught_with_its_fix(gate_change, example):
    plan, dbs = gate_change(example)
    result = check_locks(dbs, plan)
    fragment, fix = UNSAFE[example]
    caught = [f for f in _errors(result) if fragment in f.message]
    assert caught, [f.message for f in result.findings]
    assert all(f.check == "locks" and f.where.startswith(plan.new_upgrades[-1].name + ":") for f in caught)
    assert all(fix in f.fix for f in caught)
    assert not result.passed


@pytest.mark.parametrize("example", sorted(name.replace(".sql", "_safe.sql") for name in UNSAFE))
def test_the_safe_variant_passes(gate_change, example):
    plan, dbs = gate_change(example)
    result = check_locks(dbs, plan)
    assert _errors(result) == [], [f.message for f in result.findings]
    traced = {row["upgrade"]: row for row in result.figures["upgrades"]}
    assert traced[plan.new_upgrades[-1].name]["result"] == "ok"


def test_a_strong_lock_without_lock_timeout_is_an_error(gate_change, tmp_path):
    """The rule reads the setting the statement ran with: the same safe file minus its SET lock_timeout fails."""
    plan, dbs = gate_change("not_null_without_default_safe.sql")
    upgrade = plan.new_upgrades[-1]
    upgrade.path.write_text(upgrade.path.read_text().replace("SET lock_timeout = '5s';\n", ""))
    result = check_locks(dbs, plan)
    assert [f.message for f in _errors(result) if "no lock_timeout set before ACCESS EXCLUSIVE on "
            "stock.inventory_items" in f.message]

"""The gate's checks 1, 2, 3 and 6 on the corpus (tests/gate_corpus/): each unsafe change is caught by the right
check with the right message, and its safe variant passes all four. Base is this checkout's schema, filled; head is
base plus the corpus file as upgrade 9000 (tests/fix_gate.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from leadboost_schema.gate.build import Databases
from leadboost_schema.gate.compat import check_old_clients
from leadboost_schema.gate.data_kept import check_data_kept
from leadboost_schema.gate.equivalence import check_upgrade_equals_fresh
from leadboost_schema.gate.findings import CheckResult, Finding
from leadboost_schema.gate.history import check_history
from leadboost_schema.gate.plan import GatePlan, plan_between
from leadboost_schema.gate.upgraded import upgraded_base
from leadboost_schema.paths import schema_dir
from leadboost_schema.upgrades.releases import RELEASES


def core_checks(server, plan: GatePlan, dbs: Databases) -> dict[str, CheckResult]:
    """The four checks as a gate run makes them: history, then 2, 3 and 6 on one upgraded clone."""
    results = [check_history(server, plan, plan.head_dir.parent / "contract.json")]
    with upgraded_base(dbs, plan) as upgraded:
        results += [check_upgrade_equals_fresh(dbs, plan, upgraded), check_data_kept(dbs, plan, upgraded),
                    check_old_clients(dbs, plan, upgraded)]
    return {result.name: result for result in results}


def errors(result: CheckResult) -> list[Finding]:
    return [f for f in result.findings if f.severity == "error"]


@pytest.mark.parametrize("example, check, says", [
    ("drops_column_base_reads.sql", "old clients",
     "column gobernanza.policies.description, which base's clients read, is dropped"),
    ("ambiguous_overload.sql", "old clients", "an old call is now ambiguous (42725"),
    ("loses_rows.sql", "data kept", "migration.raw_signals does not keep base's rows"),
    ("loses_rows_declared.sql", "data kept", "a transform keeps every row"),
    ("upgrade_not_fresh.sql", "upgrade = fresh", "extra index migration.raw_signals.raw_signals_signal_type_idx"),
])
def test_an_unsafe_change_is_caught_by_its_check(example, check, says, gate_change, leadboost_server):
    plan, dbs = gate_change(example)
    results = core_checks(leadboost_server, plan, dbs)

    caught = [f for f in errors(results[check]) if says in f.message]
    assert caught, [f.message for f in results[check].findings]
    assert all(f.check == check and f.fix for f in caught)
    assert not results[check].passed


@pytest.mark.parametrize("example", ["drops_column_base_reads_safe.sql", "ambiguous_overload_safe.sql",
                                     "loses_rows_safe.sql", "upgrade_not_fresh_safe.sql"])
def test_the_safe_variant_passes_every_core_check(example, gate_change, leadboost_server):
    plan, dbs = gate_change(example)
    results = core_checks(leadboost_server, plan, dbs)

    assert {name: [f.message for f in errors(r)] for name, r in results.items()} == {
        "history": [], "upgrade = fresh": [], "data kept": [], "old clients": []}


def test_a_contract_step_turns_its_breaking_change_into_info_with_its_note(gate_change, leadboost_server):
    plan, dbs = gate_change("drops_column_base_reads_safe.sql")
    with upgraded_base(dbs, plan) as upgraded:
        result = check_old_clients(dbs, plan, upgraded)

    (allowed,) = [f for f in result.findings if f.where == "gobernanza.policies.description"]
    assert allowed.severity == "info"
    assert "breaking, allowed" in allowed.message and "no release after 1.0.0 reads" in allowed.message


def test_the_down_script_round_trip_gives_base_back(gate_change, leadboost_server):
    """upgrade_not_fresh_safe has a down script: after upgrade + down, catalog and rows are base's."""
    plan, dbs = gate_change("upgrade_not_fresh_safe.sql")
    result = check_data_kept(dbs, plan)

    assert result.passed and not [f for f in result.findings if "down script" in f.message]


def test_a_down_script_that_leaves_a_trace_is_an_error(gate_change, leadboost_server):
    plan, dbs = gate_change("upgrade_not_fresh_safe.sql")
    down = plan.head_dir / "upgrades" / "9000_upgrade_not_fresh_safe.down.sql"
    down.write_text("-- transaction: none\nSELECT 1;\n", encoding="utf-8")  # forgets the index
    result = check_data_kept(dbs, plan)

    (left,) = errors(result)
    assert "after the down scripts" in left.message and "raw_signals_signal_type_idx" in left.message


def _head_copy(tmp_path: Path) -> Path:
    head = tmp_path / "schema"
    shutil.copytree(schema_dir(), head, ignore=shutil.ignore_patterns("__pycache__"))
    return head


@pytest.mark.parametrize("cut, severity, says", [
    (True, "error", "belongs to release 1.1.0, which is cut, and was edited"),
    (False, "warning", "its release 1.1.0 is not cut yet"),
])
def test_an_edited_upgrade_is_refused_once_its_release_is_cut(cut, severity, says, tmp_path, leadboost_server,
                                                              monkeypatch):
    head = _head_copy(tmp_path)
    edited = head / "upgrades" / "0050_operator_read_indexes.sql"
    edited.write_text(edited.read_text(encoding="utf-8") + "-- one more line\n", encoding="utf-8")
    if cut:
        monkeypatch.setitem(RELEASES, "1.1.0", "0" * 40)
    result = check_history(leadboost_server, plan_between(schema_dir(), head), tmp_path / "contract.json")

    (found,) = [f for f in result.findings if f.where == edited.name]
    assert (found.check, found.severity) == ("history", severity) and says in found.message


def test_a_removed_file_and_a_new_file_numbered_inside_the_history_are_errors(tmp_path, leadboost_server):
    head = _head_copy(tmp_path)
    (head / "upgrades" / "0051_server_side_costs.sql").unlink()
    late = head / "upgrades" / "0056_late.sql"
    late.write_text("-- 0056_late.sql\n-- release: 1.1.0\n-- transaction: file\n-- down: irreversible — test\n"
                    "-- breaking: no\nSELECT 1;\n", encoding="utf-8")
    result = check_history(leadboost_server, plan_between(schema_dir(), head), tmp_path / "contract.json")

    said = {f.where: f.message for f in errors(result)}
    assert "is removed from head" in said["0051_server_side_costs.sql"]
    assert "numbered before base's last upgrade" in said["0056_late.sql"]


def test_a_new_file_of_a_cut_release_is_an_error(tmp_path, leadboost_server):
    head = _head_copy(tmp_path)
    (head / "upgrades" / "0100_old_release.sql").write_text(
        "-- 0100_old_release.sql\n-- release: 1.0.0\n-- transaction: file\n-- down: irreversible — test\n"
        "-- breaking: no\nSELECT 1;\n", encoding="utf-8")
    result = check_history(leadboost_server, plan_between(schema_dir(), head), tmp_path / "contract.json")

    (found,) = [f for f in errors(result) if f.where == "0100_old_release.sql"]
    assert "older than base's 1.1.0" in found.message

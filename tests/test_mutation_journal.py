"""The mutation journal and the learned test order, without a server: a journaled verdict is kept exactly while
what it depends on is unchanged (a kill: the mutated file, the package, the one failing module; a survival: every
module it ran), a torn line is skipped, errors are never kept; the order plugin moves tests, never adds or drops
one."""
from __future__ import annotations

import shutil
from pathlib import Path

from leadboost_schema.cli.mutate import _still_valid
from leadboost_schema.mutation.journal import Fingerprints, Journal, read_lines, wall_seconds
from leadboost_schema.mutation.killers import Killers
from leadboost_schema.mutation.mutants import generate
from leadboost_schema.mutation.pytest_order import rank
from leadboost_schema.mutation.runner import Outcome
from leadboost_schema.mutation.test_map import build

STANDIN = Path(__file__).parent / "standin_schema"
FUNCTION = """
CREATE FUNCTION iam.is_big(p_n integer) RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_n > 10 THEN
        RETURN true;
    END IF;
    RETURN false;
END
$$;
"""


def project_with_tests(root: Path) -> Path:
    shutil.copytree(STANDIN, root / "schema")
    with (root / "schema" / "001_schema_iam.sql").open("a", encoding="utf-8") as sql:
        sql.write(FUNCTION)
    (root / "contracts").mkdir()
    (root / "properties").mkdir()
    for name in ("test_big", "test_other"):
        (root / "contracts" / f"{name}.py").write_text(f"def test_x():\n    'iam.is_big'  # {name}\n",
                                                       encoding="utf-8")
    return root


def journaled(project: Path, outcomes: list[tuple[str, str]]) -> tuple[Path, list, object]:
    """Journal one outcome per (status, detail) for the negated-IF mutant; return (journal, mutants, map)."""
    mutants = [m for m in generate(project / "schema").mutants if m.operator == "negate-if"]
    test_map = build(project, project / "schema", "00[1-7]_*.sql")
    modules = tuple(test_map.modules_for(mutants[0]))
    path = project / "journal.jsonl"
    journal = Journal(path, Fingerprints.of(project, test_map, 0), "PostgreSQL 15.18", 1)
    for status, detail in outcomes:
        journal.record(Outcome(mutants[0], status, 1.0, modules, detail))
    return path, mutants, test_map


def kept(project: Path, path: Path, mutants: list) -> set[str]:
    test_map = build(project, project / "schema", "00[1-7]_*.sql")
    return set(_still_valid(path, Fingerprints.of(project, test_map, 0), mutants, test_map, 15))


KILLED_BY_BIG = "FAILED contracts/test_big.py::test_x - assert False"


def test_a_kill_stays_valid_until_its_failing_module_or_the_mutated_file_changes(tmp_path):
    project = project_with_tests(tmp_path)
    path, mutants, _ = journaled(project, [("killed", KILLED_BY_BIG)])
    assert kept(project, path, mutants) == {mutants[0].key}
    # Another module changes or a new one appears: a kill cannot be undone by more tests.
    (project / "contracts" / "test_other.py").write_text("def test_x():\n    'iam.is_big'  # changed\n")
    (project / "contracts" / "test_new.py").write_text("def test_y():\n    'iam.is_big'\n")
    assert kept(project, path, mutants) == {mutants[0].key}
    (project / "contracts" / "test_big.py").write_text("def test_x():\n    'iam.is_big'  # changed\n")
    assert kept(project, path, mutants) == set()


def test_a_kill_goes_stale_when_the_mutated_file_changes_or_its_module_is_no_longer_run(tmp_path):
    project = project_with_tests(tmp_path)
    path, mutants, test_map = journaled(project, [("killed", KILLED_BY_BIG)])
    entry = read_lines(path)[0]
    fingerprints = Fingerprints.of(project, test_map, 0)
    assert fingerprints.still_valid(mutants[0], entry, ["contracts/test_big.py", "contracts/test_other.py"])
    # The failing module unchanged but no longer among the mutant's modules (the map changed): not kept.
    assert not fingerprints.still_valid(mutants[0], entry, ["contracts/test_other.py"])

    project = project_with_tests(tmp_path / "again")
    path, mutants, _ = journaled(project, [("killed", KILLED_BY_BIG)])
    with (project / "schema" / "001_schema_iam.sql").open("a", encoding="utf-8") as sql:
        sql.write("\n-- an edit anywhere in the mutated file\n")
    assert kept(project, path, mutants) == set()


def test_a_survival_goes_stale_when_any_module_it_would_run_changes_or_appears(tmp_path):
    project = project_with_tests(tmp_path)
    path, mutants, _ = journaled(project, [("survived", "2 passed")])
    assert kept(project, path, mutants) == {mutants[0].key}
    (project / "contracts" / "test_new.py").write_text("def test_y():\n    'iam.is_big'\n")
    assert kept(project, path, mutants) == set()
    (project / "contracts" / "test_new.py").unlink()
    assert kept(project, path, mutants) == {mutants[0].key}
    (project / "contracts" / "test_other.py").write_text("def test_x():\n    'iam.is_big'  # changed\n")
    assert kept(project, path, mutants) == set()


def test_the_last_line_of_a_key_wins_errors_are_not_kept_and_a_torn_line_is_skipped(tmp_path):
    project = project_with_tests(tmp_path)
    path, mutants, _ = journaled(project, [("killed", KILLED_BY_BIG), ("error", "pytest exit 4")])
    assert [line["status"] for line in read_lines(path)] == ["killed"]  # the error was not written
    path, mutants, _ = journaled(project, [("survived", "2 passed")])
    with path.open("a", encoding="utf-8") as out:
        out.write('{"key": "001_schema_iam.sql:negate-if:')  # a run killed mid-write
    assert [line["status"] for line in read_lines(path)] == ["killed", "survived"]
    test_map = build(project, project / "schema", "00[1-7]_*.sql")
    outcome = _still_valid(path, Fingerprints.of(project, test_map, 0), mutants, test_map, 15)[mutants[0].key]
    assert outcome.status == "survived"
    # Another server major version or another Hypothesis seed: nothing is kept.
    assert _still_valid(path, Fingerprints.of(project, test_map, 0), mutants, test_map, 18) == {}
    assert _still_valid(path, Fingerprints.of(project, test_map, 1), mutants, test_map, 15) == {}


def test_wall_time_adds_up_each_runs_span():
    lines = [{"run": "2026-12-02T01:00:00Z", "at": "2026-12-02T01:00:30Z"},
             {"run": "2026-12-02T01:00:00Z", "at": "2026-12-02T01:01:00Z"},
             {"run": "2026-12-02T02:00:00Z", "at": "2026-12-02T02:00:10Z"}]
    assert wall_seconds(lines) == (2, 70)


def test_the_order_moves_learned_killers_then_tests_naming_the_object_first_and_keeps_every_test():
    nodes = ["a.py::t1", "a.py::t_ledger[transactions_amount_check:1]", "b.py::t2", "b.py::t3", "c.py::t4"]
    order = rank(nodes, first=["c.py::t4", "b.py::t2", "gone.py::t9"], names=["transactions"])
    assert [nodes[i] for i in order] == ["c.py::t4", "b.py::t2", "a.py::t_ledger[transactions_amount_check:1]",
                                         "a.py::t1", "b.py::t3"]
    assert rank(nodes, [], []) == list(range(len(nodes)))


def test_killers_are_ranked_by_kills_own_objects_before_callers_and_kept_inside_the_modules(tmp_path):
    project = project_with_tests(tmp_path)
    mutant = next(m for m in generate(project / "schema").mutants if m.operator == "negate-if")
    caller = type(mutant)("x:1:constant:1", mutant.file, 1, "constant", ("iam.caller",), "", "", "")
    killers = Killers()
    killers.record(mutant, "contracts/test_big.py::test_a")
    killers.record(mutant, "contracts/test_big.py::test_b")
    killers.record(mutant, "contracts/test_big.py::test_b")
    killers.record(mutant, "contracts/elsewhere.py::test_c")
    killers.record(mutant, "contracts/test_big.py")  # a collection error names no test: not learned
    killers.record(caller, "contracts/test_other.py::test_d")
    modules = ("contracts/test_big.py", "contracts/test_other.py")
    assert killers.first_for(mutant, {"iam.caller"}, modules) == [
        "contracts/test_big.py::test_b", "contracts/test_big.py::test_a", "contracts/test_other.py::test_d"]


def test_a_partial_report_counts_the_chosen_mutants_without_a_verdict_per_file(tmp_path):
    from leadboost_schema.mutation.report import judge, to_markdown

    project = project_with_tests(tmp_path)
    mutant = next(m for m in generate(project / "schema").mutants if m.operator == "negate-if")
    verdicts = judge([Outcome(mutant, "killed", 1.0, (), KILLED_BY_BIG)], {})
    markdown = to_markdown(verdicts, {}, {mutant.file: 5, "002_schema_finanzas.sql": 3})
    assert f"| {mutant.file} | 1 | 0 | 0 | 0 | 0 | 100% | 4 |" in markdown
    assert "| 002_schema_finanzas.sql | 0 | 0 | 0 | 0 | 0 | — | 3 |" in markdown
    assert "| total | 1 | 0 | 0 | 0 | 0 | 100% | 7 |" in markdown

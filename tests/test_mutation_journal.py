"""The mutation journal and the learned test order, without a server: a journaled verdict is kept exactly while
what it depends on is unchanged (a kill: the mutated file, the one failing module and the package modules it, the
conftests, the entry points and the runner import; a survival: every module it ran and what they import), a torn
line is skipped, errors are never kept; the order plugin moves tests, never adds or drops one."""
from __future__ import annotations

import shutil
from pathlib import Path

from leadboost_schema.cli.mutate import _still_valid, _survivals_to_extend
from leadboost_schema.mutation.imports import ImportGraph
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


# A stand-in package (named like the real one, so its imports read the same) and what imports which module:
# test_big imports `used` directly; test_other runs the package with -m (its __main__) and a helper that imports
# `helped`; the conftest loads `fixtures` by name (pytest_plugins); the pyproject's entry point `plugin` imports `.plugin_support`
# relatively; the runner (a run driver: its own text does not count) imports `prepare`; `unused` nobody imports.
PACKAGE_FILES = {
    "__init__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from leadboost_schema.typed import T\n",
    "__main__.py": "print('main')\n",
    "typed.py": "T = 1\n",
    "used.py": "X = 1\n",
    "helped.py": "H = 1\n",
    "fixtures.py": "F = 1\n",
    "plugin.py": "from .plugin_support import S\n",
    "plugin_support.py": "S = 1\n",
    "prepare.py": "P = 1\n",
    "unused.py": "U = 1\n",
    "mutation/__init__.py": "",
    "mutation/runner.py": "from leadboost_schema.prepare import P\n",
    "mutation/pytest_order.py": "",
    "mutation/other_driver.py": "D = 1\n",
}


def project_with_tests(root: Path) -> Path:
    shutil.copytree(STANDIN, root / "schema")
    with (root / "schema" / "001_schema_iam.sql").open("a", encoding="utf-8") as sql:
        sql.write(FUNCTION)
    (root / "contracts").mkdir()
    (root / "properties").mkdir()
    (root / "contracts" / "__init__.py").write_text("")
    (root / "contracts" / "helper.py").write_text("import leadboost_schema.helped\n")
    (root / "contracts" / "test_big.py").write_text(
        "from leadboost_schema.used import X\n\n\ndef test_x():\n    'iam.is_big'  # test_big\n")
    (root / "contracts" / "test_other.py").write_text(
        "import subprocess\nfrom contracts.helper import leadboost_schema\n\n\ndef test_x():\n"
        "    'iam.is_big'  # test_other\n    subprocess.run(['python', '-m', 'leadboost_schema'])\n")
    (root / "conftest.py").write_text('pytest_plugins = ("leadboost_schema.fixtures",)\n')
    (root / "pyproject.toml").write_text('[project.entry-points.pytest11]\nours = "leadboost_schema.plugin"\n')
    for name, text in PACKAGE_FILES.items():
        path = root / "src" / "leadboost_schema" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def package_of(project: Path) -> Path:
    return project / "src" / "leadboost_schema"


def journaled(project: Path, outcomes: list[tuple[str, str]]) -> tuple[Path, list, object]:
    """Journal one outcome per (status, detail) for the negated-IF mutant; return (journal, mutants, map)."""
    mutants = [m for m in generate(project / "schema").mutants if m.operator == "negate-if"]
    test_map = build(project, project / "schema", "00[1-7]_*.sql")
    modules = tuple(test_map.modules_for(mutants[0]))
    path = project / "journal.jsonl"
    journal = Journal(path, Fingerprints.of(project, test_map, 0, package_of(project)), "PostgreSQL 15.18", 1)
    for status, detail in outcomes:
        journal.record(Outcome(mutants[0], status, 1.0, modules, detail))
    return path, mutants, test_map


def kept(project: Path, path: Path, mutants: list) -> set[str]:
    test_map = build(project, project / "schema", "00[1-7]_*.sql")
    return set(_still_valid(path, Fingerprints.of(project, test_map, 0, package_of(project)), mutants, test_map, 15))


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
    fingerprints = Fingerprints.of(project, test_map, 0, package_of(project))
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
    package = package_of(project)
    outcome = _still_valid(path, Fingerprints.of(project, test_map, 0, package), mutants, test_map, 15)[mutants[0].key]
    assert outcome.status == "survived"
    # Another server major version or another Hypothesis seed: nothing is kept.
    assert _still_valid(path, Fingerprints.of(project, test_map, 0, package), mutants, test_map, 18) == {}
    assert _still_valid(path, Fingerprints.of(project, test_map, 1, package), mutants, test_map, 15) == {}


def test_the_last_valid_line_of_a_key_wins_so_journals_merge_in_any_order(tmp_path):
    """Invariant: a key's verdict is its last line that is still valid; a later line gone stale (a survival that
    did not run a module added since) neither hides an earlier valid kill nor is kept itself."""
    project = project_with_tests(tmp_path)
    path, mutants, _ = journaled(project, [("killed", KILLED_BY_BIG), ("survived", "2 passed")])
    assert _outcome_status(project, path, mutants) == "survived"  # both valid: the later evidence wins
    (project / "contracts" / "test_new.py").write_text("def test_y():\n    'iam.is_big'\n")
    assert _outcome_status(project, path, mutants) == "killed"  # the survival is stale, the kill is not
    (project / "contracts" / "test_big.py").write_text("def test_x():\n    'iam.is_big'  # changed\n")
    assert _outcome_status(project, path, mutants) is None  # neither holds


def _outcome_status(project: Path, path: Path, mutants: list) -> str | None:
    test_map = build(project, project / "schema", "00[1-7]_*.sql")
    found = _still_valid(path, Fingerprints.of(project, test_map, 0, package_of(project)), mutants, test_map, 15)
    return found[mutants[0].key].status if mutants[0].key in found else None


def test_a_stale_survival_is_rechecked_against_the_modules_added_since_only(tmp_path):
    """Invariant: a survival whose modules are all unchanged and still run, but which now lacks modules added since,
    is extended by exactly those; a kill never is, and once a module it ran changes it must run whole again."""
    project = project_with_tests(tmp_path)
    path, mutants, _ = journaled(project, [("survived", "2 passed")])
    ran = tuple(read_lines(path)[-1]["modules"])

    def to_extend() -> dict:
        test_map = build(project, project / "schema", "00[1-7]_*.sql")
        fingerprints = Fingerprints.of(project, test_map, 0, package_of(project))
        return _survivals_to_extend(path, fingerprints, mutants, test_map, 15)

    assert to_extend() == {}  # still valid as it is: nothing to add
    (project / "contracts" / "test_new.py").write_text("def test_y():\n    'iam.is_big'\n")
    assert to_extend() == {mutants[0].key: (ran, ("contracts/test_new.py",))}
    (project / "contracts" / "test_other.py").write_text("def test_x():\n    'iam.is_big'  # changed\n")
    assert to_extend() == {}

    project = project_with_tests(tmp_path / "kill")
    path, mutants, _ = journaled(project, [("killed", KILLED_BY_BIG)])
    (project / "contracts" / "test_big.py").write_text("def test_x():\n    'iam.is_big'  # changed\n")
    (project / "contracts" / "test_new.py").write_text("def test_y():\n    'iam.is_big'\n")
    assert to_extend() == {}


def edit(project: Path, name: str) -> None:
    with (package_of(project) / name).open("a", encoding="utf-8") as module:
        module.write("# edited\n")


def test_a_kill_depends_on_the_package_modules_its_failing_module_and_every_run_imports_only(tmp_path):
    """Invariant: a killed line stays valid after an edit to a package module that neither the failing module nor
    the conftests, entry points or runner import (or to a run driver), and goes stale after an edit to one they
    import, however indirectly (relative import, TYPE_CHECKING, a parent __init__)."""
    project = project_with_tests(tmp_path)
    path, mutants, _ = journaled(project, [("killed", KILLED_BY_BIG)])
    for unrelated in ("unused.py", "helped.py", "__main__.py", "mutation/runner.py", "mutation/other_driver.py"):
        edit(project, unrelated)  # helped and __main__ are the other module's, not the killer's
        assert kept(project, path, mutants) == {mutants[0].key}, unrelated
    for imported in ("used.py", "fixtures.py", "plugin_support.py", "prepare.py", "typed.py", "__init__.py"):
        project = project_with_tests(tmp_path / imported)
        path, mutants, _ = journaled(project, [("killed", KILLED_BY_BIG)])
        edit(project, imported)
        assert kept(project, path, mutants) == set(), imported


def test_a_survival_depends_on_what_every_module_it_ran_imports(tmp_path):
    """Invariant: a survivor goes stale when a package module imported by any module it ran changes (a helper's
    import, a package run with -m in a subprocess), and stays valid when an unimported one does."""
    project = project_with_tests(tmp_path)
    path, mutants, _ = journaled(project, [("survived", "2 passed")])
    edit(project, "unused.py")
    assert kept(project, path, mutants) == {mutants[0].key}
    for imported in ("helped.py", "__main__.py", "used.py"):
        project = project_with_tests(tmp_path / imported)
        path, mutants, _ = journaled(project, [("survived", "2 passed")])
        edit(project, imported)
        assert kept(project, path, mutants) == set(), imported


def test_the_import_graph_follows_imports_strings_naming_modules_and_parent_packages(tmp_path):
    project = project_with_tests(tmp_path)
    graph = ImportGraph(project, package_of(project))
    names = {str(path.relative_to(project)) for path in graph.reached([project / "contracts" / "test_other.py"])}
    assert names == {"contracts/test_other.py", "contracts/__init__.py", "contracts/helper.py",
                     "src/leadboost_schema/__init__.py", "src/leadboost_schema/typed.py",
                     "src/leadboost_schema/helped.py", "src/leadboost_schema/__main__.py"}
    assert graph.entry_points() == ["leadboost_schema.plugin"]
    assert graph.module_files("leadboost_schema.mutation.runner") == [
        package_of(project).resolve() / "__init__.py", package_of(project).resolve() / "mutation" / "__init__.py",
        package_of(project).resolve() / "mutation" / "runner.py"]
    assert graph.module_files("leadboost_schema.nothing") == graph.module_files("json") == []


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


def test_killers_are_ranked_by_their_fastest_kill_then_kills_own_objects_first_and_kept_inside_the_modules(tmp_path):
    """Invariant: among the killers of the mutant's own objects the one that killed in the shortest run comes first
    (ties: more kills first); killers of its callers follow; a test outside the mutant's modules never appears."""
    project = project_with_tests(tmp_path)
    mutant = next(m for m in generate(project / "schema").mutants if m.operator == "negate-if")
    caller = type(mutant)("x:1:constant:1", mutant.file, 1, "constant", ("iam.caller",), "", "", "")
    killers = Killers()
    killers.record(mutant, "contracts/test_big.py::test_a", 9.0)
    killers.record(mutant, "contracts/test_big.py::test_b", 9.0)
    killers.record(mutant, "contracts/test_big.py::test_b", 12.0)
    killers.record(mutant, "contracts/test_big.py::test_slow", 200.0)
    killers.record(mutant, "contracts/test_big.py::test_slow", 150.0)
    killers.record(mutant, "contracts/test_big.py::test_slow", 180.0)
    killers.record(mutant, "contracts/elsewhere.py::test_c", 1.0)
    killers.record(mutant, "contracts/test_big.py")  # a collection error names no test: not learned
    killers.record(caller, "contracts/test_other.py::test_d", 0.5)
    modules = ("contracts/test_big.py", "contracts/test_other.py")
    assert killers.first_for(mutant, {"iam.caller"}, modules) == [
        "contracts/test_big.py::test_b", "contracts/test_big.py::test_a", "contracts/test_big.py::test_slow",
        "contracts/test_other.py::test_d"]
    killers.record(mutant, "contracts/test_big.py::test_slow", 3.0)  # it killed fast once: now it leads
    assert killers.first_for(mutant, set(), modules)[0] == "contracts/test_big.py::test_slow"


def test_a_partial_report_counts_the_chosen_mutants_without_a_verdict_per_file(tmp_path):
    from leadboost_schema.mutation.report import judge, to_markdown

    project = project_with_tests(tmp_path)
    mutant = next(m for m in generate(project / "schema").mutants if m.operator == "negate-if")
    verdicts = judge([Outcome(mutant, "killed", 1.0, (), KILLED_BY_BIG)], {})
    markdown = to_markdown(verdicts, {}, {mutant.file: 5, "002_schema_finanzas.sql": 3})
    assert f"| {mutant.file} | 1 | 0 | 0 | 0 | 0 | 100% | 4 |" in markdown
    assert "| 002_schema_finanzas.sql | 0 | 0 | 0 | 0 | 0 | — | 3 |" in markdown
    assert "| total | 1 | 0 | 0 | 0 | 0 | 100% | 7 |" in markdown


def test_the_upgrade_proofs_are_never_run_for_a_mutant(tmp_path):
    """They fail for any head edit made without an upgrade file, so they would kill every mutant by bookkeeping;
    a module naming the object is run, they are not, whatever they name."""
    project = project_with_tests(tmp_path)
    for name in ("test_upgrade_from_1_0_0", "test_schema_changes", "test_claims_can_fail"):
        (project / "contracts" / f"{name}.py").write_text("def test_x():\n    'iam.is_big'\n")
    mutant = next(m for m in generate(project / "schema").mutants if m.operator == "negate-if")
    assert build(project, project / "schema", "00[1-7]_*.sql").modules_for(mutant) == [
        "contracts/test_big.py", "contracts/test_other.py"]

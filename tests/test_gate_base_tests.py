"""Gate check 7 (``base-tests``) on a tiny fake base release kept in a throw-away git repository: its own pytest
plugin (found through its pyproject's pytest11 table, as a real release's is) "installs" the schema folder by
reading it, and two tests pin what it installs. Head adds one upgrade that changes what one test pins. No server is
needed: the check's whole path (git archive, the schema folder ending at head, base's plugin loaded instead of
head's, JUnit read back, the expected-failures file) runs on it in a few seconds."""
from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from leadboost_schema.gate.base_expected import EXPECTED, Excuse, read_expected
from leadboost_schema.gate.base_suite import BASE_MASTER, SuiteRun, upgraded_schema
from leadboost_schema.gate.base_tests import check_base_tests, judge
from leadboost_schema.gate.findings import CheckResult
from leadboost_schema.gate.plan import GatePlan, plan_between, plan_from_git
from leadboost_schema.gate.run import CHECKS, selected
from leadboost_schema.server import Server

PLUGIN = '''
from pathlib import Path
import re
import pytest

def pytest_addoption(parser):
    for name in ("schema-dir", "backend", "cache-dir", "dsn", "bindir"):
        parser.addoption(f"--leadboost-{name}")

def _read(path):
    # What this fake release's installer runs: the file, with its \\ir includes in place.
    return re.sub(r"^\\\\ir (\\S+)$", lambda m: _read(path.parent / m.group(1)), path.read_text(), flags=re.M)

@pytest.fixture
def installed(pytestconfig):
    return _read(Path(pytestconfig.getoption("leadboost_schema_dir")) / "000_master_migration.sql")
'''
TESTS = '''
def test_the_table_is_kept(installed):
    assert "CREATE TABLE t (id int);" in installed

class TestWidening:
    def test_the_id_stays_int(self, installed):
        assert "TYPE bigint" not in installed, "t.id is no longer int"
'''
UPGRADE = """-- release: 1.1.0
-- transaction: {transaction}
-- down: irreversible — {why}
-- breaking: {breaking}
{sql}
"""
WIDEN = ("0001_widen_id.sql", "file", "contract — t.id is bigint", "ALTER TABLE t ALTER COLUMN id TYPE bigint;")
FAILING = "contracts/test_base.py::TestWidening::test_the_id_stays_int"
PASSING = "contracts/test_base.py::test_the_table_is_kept"
SERVER = Server("local", "host=/nonexistent", 150000)  # only its kind is handed to base's plugin


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
                   check=True, capture_output=True)


def _upgrade(schema: Path, name: str, transaction: str, breaking: str, sql: str) -> None:
    (schema / "upgrades").mkdir(exist_ok=True)
    text = UPGRADE.format(transaction=transaction, why="test data", breaking=breaking, sql=sql)
    (schema / "upgrades" / name).write_text(text, encoding="utf-8")


@pytest.fixture
def fake_change(tmp_path: Path) -> GatePlan:
    """A git repository whose commit is the base release; head is its schema plus upgrade 0001."""
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "schema").mkdir()
    (repo / "contracts").mkdir()
    (repo / "pyproject.toml").write_text('[project]\nname = "fakebase"\nversion = "1.0.0"\n'
                                         '[project.entry-points.pytest11]\nfakebase = "fakebase_plugin"\n')
    (repo / "src" / "fakebase_plugin.py").write_text(PLUGIN)
    (repo / "schema" / "000_master_migration.sql").write_text("CREATE TABLE t (id int);\n")
    (repo / "contracts" / "test_base.py").write_text(TESTS)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    head = tmp_path / "head" / "schema"
    shutil.copytree(repo / "schema", head)
    _upgrade(head, *WIDEN)
    return plan_from_git(repo, head, tmp_path / "work", "HEAD")


def _run(plan: GatePlan, expected: str | None = None) -> CheckResult:
    if expected is not None:
        (plan.head_dir / "upgrades" / EXPECTED).write_text(expected, encoding="utf-8")
    return check_base_tests(SERVER, plan, timeout_s=300, workers="0")


def test_an_undeclared_failure_of_a_base_test_fails_the_check(fake_change):
    result = _run(fake_change)

    assert not result.passed
    errors = [f for f in result.findings if f.severity == "error"]
    assert [(f.where, f.fix != "") for f in errors] == [(FAILING, True)]
    assert "t.id is no longer int" in errors[0].message
    assert (result.figures["passed"], result.figures["failed"], result.figures["skipped"]) == (1, 1, 0)


def test_a_declared_failure_is_info_and_a_declared_test_that_passes_is_a_stale_warning(fake_change):
    result = _run(fake_change, f'"contracts/test_base.py::TestWidening" = "{WIDEN[0]}: t.id is widened"\n'
                               f'"{PASSING}" = "catalog equality: listed by mistake"\n')

    assert result.passed
    assert {(f.severity, f.where) for f in result.findings} == {
        ("info", f"{EXPECTED}: contracts/test_base.py::TestWidening"), ("warning", f"{EXPECTED}: {PASSING}")}
    info = next(f for f in result.findings if f.severity == "info")
    assert info.message == f"1 test fails as declared: {WIDEN[0]}: t.id is widened"
    assert result.figures["failed as declared"] == 1


def test_one_entry_is_one_info_however_many_tests_it_excuses():
    """A PR comment gets one line per declared break: the entry names the tests it excused by count."""
    outcomes = {"c/t.py::a[1]": "failed", "c/t.py::a[2]": "failed", "c/t.py::b": "failed", "c/t.py::c": "passed"}
    run = SuiteRun(outcomes, {}, 1.0, 1, "")
    excuses = [Excuse("c/t.py::a", "0001_x.sql", "widened"), Excuse("c/t.py::b", "", "text moved")]

    findings = judge(run, excuses)

    assert sorted((f.severity, f.where, f.message) for f in findings) == [
        ("info", f"{EXPECTED}: c/t.py::a", "2 tests fail as declared: 0001_x.sql: widened"),
        ("info", f"{EXPECTED}: c/t.py::b", f"1 test fails as declared: {excuses[1].reason}")]


def test_a_base_given_as_a_folder_is_reported_as_not_run(fake_change):
    folder_plan = dataclasses.replace(fake_change, repo=None, revision="")
    result = check_base_tests(SERVER, folder_plan)

    assert result.passed and [f.severity for f in result.findings] == ["info"]
    assert "not a git revision" in result.findings[0].message and "passed" not in result.figures


def test_base_master_then_heads_new_upgrades_without_concurrently(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    (base / "000_master_migration.sql").write_text("CREATE TABLE t (id int);\n")
    _upgrade(base, "0001_kept.sql", "file", "no", "SELECT 1;")
    head = tmp_path / "head"
    shutil.copytree(base, head)
    _upgrade(head, "0002_index.sql", "none", "no", "CREATE INDEX concurrently t_id_idx ON t (id);")
    _upgrade(head, "0003_more.sql", "file", "no", "SELECT 3;")

    folder = upgraded_schema(plan_between(base, head), tmp_path / "out")

    master = (folder / "000_master_migration.sql").read_text().splitlines()
    assert master == [f"\\ir {BASE_MASTER}", "\\ir gate_upgrades/0002_index.sql", "\\ir gate_upgrades/0003_more.sql"]
    assert (folder / BASE_MASTER).read_text() == "CREATE TABLE t (id int);\n"
    assert "CREATE INDEX t_id_idx ON t (id);" in (folder / "gate_upgrades" / "0002_index.sql").read_text()


def test_an_entry_excuses_only_a_new_contract_step_or_catalog_equality(tmp_path):
    base = tmp_path / "base"
    base.mkdir()
    (base / "000_master_migration.sql").write_text("SELECT 1;\n")
    _upgrade(base, "0001_old.sql", "file", "contract — released before", "SELECT 1;")
    head = tmp_path / "head"
    shutil.copytree(base, head)
    _upgrade(head, "0002_breaks.sql", "file", "contract — on purpose", "SELECT 2;")
    _upgrade(head, "0003_quiet.sql", "file", "no", "SELECT 3;")
    (head / "upgrades" / EXPECTED).write_text(
        '"a" = "0002_breaks.sql: intended"\n"b" = "catalog equality: every change breaks it"\n'
        '"c" = "0003_quiet.sql: not a contract step"\n"d" = "0099_none.sql: no such file"\n'
        '"e" = "0002_breaks.sql"\n"f" = "0001_old.sql: base has it"\n')

    excuses, problems = read_expected(plan_between(base, head))

    assert [(e.test, e.upgrade) for e in excuses] == [("a", "0002_breaks.sql"), ("b", "")]
    assert [(p.test, p.severity) for p in problems] == [("c", "error"), ("d", "error"), ("e", "error"),
                                                        ("f", "info")]
    assert "not marked 'breaking: contract'" in problems[0].message


def test_base_tests_run_only_when_asked_for():
    assert "base-tests" not in selected(())
    assert selected(("base-tests",)) == ["base-tests"]
    assert selected(tuple(CHECKS))[-1] == "base-tests"

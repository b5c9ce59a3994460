"""The gate's report and command line, without a server: what a reviewer reads in a pull request (every failing
check and finding with its fix, the figures as tables) and the one-line refusals of bad arguments."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadboost_schema.cli import main
from leadboost_schema.cli.errors import USAGE
from leadboost_schema.gate.findings import CheckResult, Finding
from leadboost_schema.gate.report import to_json, to_markdown
from leadboost_schema.gate.run import GateReport

REPO = Path(__file__).resolve().parents[1]


def report(*checks: CheckResult) -> GateReport:
    return GateReport("1.0.0", "head", "PostgreSQL 15.18", ["0001_a.sql"], 9439, list(checks), 12.0)


def test_a_check_with_an_error_fails_the_report_and_shows_the_finding_with_its_fix() -> None:
    locks = CheckResult("locks", [Finding("locks", "error", "0001_a.sql:3", "CREATE INDEX | blocks writers",
                                          "CREATE INDEX CONCURRENTLY")], {"seconds": 1.5})
    history = CheckResult("history", [Finding("history", "warning", "0001_a.sql", "edited, unreleased")])
    done = report(history, locks)
    text = to_markdown(done)

    assert not done.passed and history.passed and not locks.passed
    assert text.startswith("## Schema gate: 1.0.0 → head — FAILED")
    assert "| locks | ❌ fail | 1 | 0 | 1.5 |" in text
    assert "| history | ✅ pass | 0 | 1 |" in text
    assert "| error | `0001_a.sql:3` | CREATE INDEX \\| blocks writers | CREATE INDEX CONCURRENTLY |" in text


def test_a_report_without_errors_passes_and_lists_figures_as_tables() -> None:
    load = CheckResult("load", [Finding("load", "info", "", "4 clients")],
                       {"max blocked ms": 67, "per upgrade": [{"upgrade": "0001_a.sql", "max blocked ms": 67}]})
    text = to_markdown(report(load))

    assert report(load).passed
    assert "— passed" in text.splitlines()[0]
    assert "| max blocked ms | 67 |" in text
    assert "| upgrade | max blocked ms |" in text and "| 0001_a.sql | 67 |" in text


def test_the_json_report_holds_every_check_figure_and_finding() -> None:
    locks = CheckResult("locks", [Finding("locks", "error", "f:1", "m", "x")], {"seconds": 2})
    document = json.loads(to_json(report(locks)))

    assert document["passed"] is False
    assert document["checks"][0] == {"name": "locks", "passed": False, "figures": {"seconds": 2},
                                     "findings": [{"check": "locks", "severity": "error", "where": "f:1",
                                                   "message": "m", "fix": "x"}]}


@pytest.mark.parametrize("argv, says", [
    (["--check", "bogus"], "unknown check 'bogus'"),
    (["--clients", "0"], "--clients is at least 1"),
    (["--base", "no-such-revision-xyz", "--repo", str(REPO)], "cannot read schema/ at no-such-revision-xyz"),
])
def test_bad_arguments_get_one_line_and_exit_2(argv: list[str], says: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    if "--repo" in argv and not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    code = main(["gate", "--report-dir", str(tmp_path), *argv])
    err = capsys.readouterr().err.strip()

    assert code == USAGE
    assert says in err and len(err.splitlines()) == 1
    assert not (tmp_path / "report.md").exists()

"""The gate as one of this repository's tests (issue 12): the change from the last release to this checkout passes
every check — history, upgrade equals fresh, data kept, lock trace, blocked time under load, old clients served.
`leadboost-schema gate` runs the same and writes the report (docs/gate.md)."""
from __future__ import annotations

from pathlib import Path

import pytest

from leadboost_schema.gate.plan import plan_from_git
from leadboost_schema.gate.report import to_markdown
from leadboost_schema.gate.run import CHECKS, OPT_IN, run_gate
from leadboost_schema.paths import schema_dir

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout: the base is read from git")


def test_the_change_since_the_last_release_passes_the_gate(leadboost_server, tmp_path):
    plan = plan_from_git(REPO, schema_dir(), tmp_path)
    report = run_gate(leadboost_server, plan)

    assert len(report.checks) == 1 + len(CHECKS) - len(OPT_IN)  # the build, then every default check
    assert report.new_upgrades, "the last release is older than this checkout: there is a change to prove"
    assert report.passed, to_markdown(report)

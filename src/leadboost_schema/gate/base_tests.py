"""Gate check 7, ``base-tests`` (issue 12, item 6's last promise): base's own contract and property tests run
against base's schema upgraded by head's new files, and pass. A failing test is an error unless head declares it in
``upgrades/base_tests_expected_to_fail.toml`` (``gate.base_expected``): then it is info with the declared reason;
a declared test that passes is a warning (a stale entry). Not in the default set: it costs a run of base's suite
(``--check base-tests``)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from leadboost_schema.gate.base_expected import EXPECTED, Excuse, read_expected
from leadboost_schema.gate.base_suite import (
    SUITES,
    TIMEOUT_S,
    BaseTreeError,
    SuiteRun,
    extract_tree,
    run_suite,
    upgraded_schema,
)
from leadboost_schema.gate.findings import CheckResult, Finding
from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.server import Server

NAME = "base tests"
_FIX = (f"keep what base's test relies on; if the change is meant to break it, mark the upgrade 'breaking: contract "
        f"— <note>' and list the test in upgrades/{EXPECTED} as \"<node id>\" = \"<upgrade file>: <why>\"")


def check_base_tests(server: Server, plan: GatePlan, timeout_s: float = TIMEOUT_S, workers: str = "auto",
                     suites: tuple[str, ...] = SUITES) -> CheckResult:
    """Check 7 on ``server``'s kind of server: base's tree read from ``plan.repo`` at ``plan.revision``."""
    result = CheckResult(NAME)
    if plan.repo is None or not plan.revision:
        result.findings.append(Finding(NAME, "info", plan.base, "base is a folder, not a git revision: its own "
                                       "tests cannot be read, so they were not run"))
        return result
    excuses, problems = read_expected(plan)
    result.findings += [Finding(NAME, p.severity, f"{EXPECTED}: {p.test}" if p.test else EXPECTED, p.message,
                                f"correct or remove the entry in upgrades/{EXPECTED}" if p.severity == "error"
                                else "") for p in problems]
    with tempfile.TemporaryDirectory(prefix="leadboost-base-tests-") as work:
        try:
            tree = extract_tree(plan.repo, plan.revision, Path(work) / "tree")
            present = tuple(suite for suite in suites if (tree / suite).is_dir())
            if not present:
                result.findings.append(Finding(NAME, "info", plan.base, f"base has none of {', '.join(suites)}: "
                                               "no test of its own to run"))
                return result
            run = run_suite(tree, upgraded_schema(plan, Path(work)), server, present, timeout_s, workers)
        except BaseTreeError as error:
            result.findings.append(Finding(NAME, "error", plan.base, f"base's tests cannot run: {error}",
                                           "run the gate from a git checkout holding the base revision"))
            return result
    result.figures.update({"suites": ", ".join(present), "tests": len(run.outcomes), "passed": run.count("passed"),
                           "failed": run.count("failed"), "skipped": run.count("skipped"),
                           "suite seconds": run.seconds})
    result.findings += judge(run, excuses, timeout_s)
    result.figures["failed as declared"] = sum(run.outcomes[n] == "failed" and any(e.covers(n) for e in excuses)
                                               for n in run.outcomes)
    return result


def judge(run: SuiteRun, excuses: list[Excuse], timeout_s: float = TIMEOUT_S) -> list[Finding]:
    """Each failure not excused by an entry (error); each entry with the failures it excused (one info per entry,
    so a PR comment stays one line per declared break, not one per test); each entry that excused nothing
    (warning); a run that stopped before its tests ended (error)."""
    findings: list[Finding] = []
    if run.timed_out:
        findings.append(Finding(NAME, "error", "", f"base's suite did not finish in {timeout_s:.0f} s",
                                "find the test that hangs on the upgraded schema (a lock wait, a loop)"))
    elif run.exit_code not in (0, 1) or not run.outcomes:
        findings.append(Finding(NAME, "error", "", f"base's suite did not run its tests: pytest exit "
                                f"{run.exit_code}: {run.tail}", "run base's suite by hand as the gate does "
                                "(docs/gate.md) and read its output"))
    excused: dict[Excuse, list[str]] = {}
    for nodeid, outcome in sorted(run.outcomes.items()):
        if outcome != "failed":
            continue
        excuse = next((e for e in excuses if e.covers(nodeid)), None)
        if excuse is None:
            findings.append(Finding(NAME, "error", nodeid, "base's test fails on the upgraded schema: "
                                    f"{run.messages.get(nodeid, '')}", _FIX))
        else:
            excused.setdefault(excuse, []).append(nodeid)
    for excuse, nodeids in excused.items():
        count = "1 test fails" if len(nodeids) == 1 else f"{len(nodeids)} tests fail"
        findings.append(Finding(NAME, "info", f"{EXPECTED}: {excuse.test}", f"{count} as declared: {excuse.reason}"))
    for excuse in excuses:
        if excuse in excused:
            continue
        passing = [n for n, outcome in run.outcomes.items() if outcome == "passed" and excuse.covers(n)]
        state = f"{len(passing)} of its tests now pass" if passing else "it matches no test of base's suite"
        findings.append(Finding(NAME, "warning", f"{EXPECTED}: {excuse.test}", f"a stale entry: {state}",
                                f"remove the entry from upgrades/{EXPECTED}"))
    return findings

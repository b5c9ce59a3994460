"""The gate's report: markdown fit for a pull-request comment or a job summary (a summary table, then one section
per check: its figures and each finding with its fix) and JSON with everything (``GateReport.as_dict``)."""
from __future__ import annotations

import json
from typing import Any

from leadboost_schema.gate.findings import CheckResult
from leadboost_schema.gate.run import GateReport

_MARK = {True: "✅ pass", False: "❌ fail"}


def to_json(report: GateReport) -> str:
    return json.dumps(report.as_dict(), indent=1, ensure_ascii=False, default=str) + "\n"


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(rows: list[dict[str, Any]]) -> list[str]:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(column, "")) for column in columns) + " |" for row in rows]
    return lines


def _is_table(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(row, dict) for row in value)


def _section(check: CheckResult) -> list[str]:
    lines = ["", f"### {check.name} — {_MARK[check.passed]}"]
    scalars = {k: v for k, v in check.figures.items() if not isinstance(v, (list, dict))}
    if scalars:
        lines += ["", *_table([{"figure": k, "value": v} for k, v in scalars.items()])]
    for name, value in check.figures.items():
        if _is_table(value):
            lines += ["", f"**{name}**", "", *_table(value)]
    if check.findings:
        lines += ["", *_table([{"severity": f.severity, "where": f"`{f.where}`" if f.where else "",
                                "finding": f.message, "fix": f.fix} for f in check.findings])]
    else:
        lines += ["", "No findings."]
    return lines


def to_markdown(report: GateReport) -> str:
    verdict = "passed" if report.passed else "FAILED"
    lines = [f"## Schema gate: {report.base} → {report.head} — {verdict}", "",
             f"{report.server} · {len(report.new_upgrades)} new upgrade(s) · base filled with {report.base_rows:,}"
             f" rows · {report.seconds:.0f} s", ""]
    if report.new_upgrades:
        lines += ["New upgrades: " + ", ".join(f"`{name}`" for name in report.new_upgrades), ""]
    summary = [{"check": c.name, "result": _MARK[c.passed],
                "errors": sum(f.severity == "error" for f in c.findings),
                "warnings": sum(f.severity == "warning" for f in c.findings),
                "seconds": c.figures.get("seconds", "")} for c in report.checks]
    lines += _table(summary)
    for check in report.checks:
        if check.name != "build":
            lines += _section(check)
    return "\n".join(lines) + "\n"

"""What every check of the gate reports: findings (each with the safe pattern to use instead) and a check's
outcome. One shape for all checks so the report renders them alike."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One thing a check found. ``where``: the file and line (or object) it is about; ``fix``: what to write
    instead (empty for info)."""

    check: str
    severity: Severity
    where: str
    message: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "severity": self.severity, "where": self.where, "message": self.message,
                "fix": self.fix}


@dataclass
class CheckResult:
    """A check's outcome: failed when any finding is an error. ``figures``: numbers the report prints
    (durations, blocked times, row counts)."""

    name: str
    findings: list[Finding] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "findings": [f.as_dict() for f in self.findings],
                "figures": self.figures}

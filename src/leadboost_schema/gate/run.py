"""One gate run: build the base (filled) and head databases once on a server, run the checks in order, each timed,
and collect them in a ``GateReport`` (``gate.report`` renders it as markdown and JSON)."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadboost_schema.catalog.snapshot import CONTRACT_PATH
from leadboost_schema.gate.build import ROUNDS, TENANTS, Databases, build
from leadboost_schema.gate.findings import CheckResult
from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.gate.upgraded import Upgraded, upgraded_base
from leadboost_schema.server import Server


@dataclass(frozen=True)
class GateOptions:
    """``contract_path``: the contract head's catalog must equal; ``max_blocked_s``: the longest an application
    call may wait on the upgrade's locks; ``clients``: concurrent application sessions during the upgrade;
    ``checks``: which checks run (default all but the opt-in ones, in CHECKS order); ``base_tests_timeout_s``: how
    long base's own suite may run (check 7)."""

    contract_path: Path = CONTRACT_PATH
    max_blocked_s: float = 1.0
    clients: int = 4
    tenants: int = TENANTS
    rounds: int = ROUNDS
    checks: tuple[str, ...] = ()
    base_tests_timeout_s: float = 900.0


@dataclass(frozen=True)
class GateContext:
    """What every check gets. ``upgraded()``: the filled base upgraded by head's files, made on first use and
    shared by checks 2, 3 and 6 (one migrate per run), dropped when the run ends (``stack``)."""

    server: Server
    plan: GatePlan
    databases: Databases
    options: GateOptions
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _shared: dict[str, Any] = field(default_factory=dict)

    def upgraded(self) -> Upgraded:
        if "upgraded" not in self._shared:
            self._shared["upgraded"] = self.stack.enter_context(upgraded_base(self.databases, self.plan))
        return self._shared["upgraded"]


def _history(ctx: GateContext) -> CheckResult:
    from leadboost_schema.gate.history import check_history
    return check_history(ctx.server, ctx.plan, ctx.options.contract_path)


def _equivalence(ctx: GateContext) -> CheckResult:
    from leadboost_schema.gate.equivalence import check_upgrade_equals_fresh
    return check_upgrade_equals_fresh(ctx.databases, ctx.plan, ctx.upgraded())


def _data_kept(ctx: GateContext) -> CheckResult:
    from leadboost_schema.gate.data_kept import check_data_kept
    return check_data_kept(ctx.databases, ctx.plan, ctx.upgraded())


def _locks(ctx: GateContext) -> CheckResult:
    from leadboost_schema.gate.locks import check_locks
    return check_locks(ctx.databases, ctx.plan)


def _load(ctx: GateContext) -> CheckResult:
    from leadboost_schema.gate.load import check_under_load
    return check_under_load(ctx.databases, ctx.plan, max_blocked_s=ctx.options.max_blocked_s,
                            clients=ctx.options.clients)


def _old_clients(ctx: GateContext) -> CheckResult:
    from leadboost_schema.gate.compat import check_old_clients
    return check_old_clients(ctx.databases, ctx.plan, ctx.upgraded())


def _base_tests(ctx: GateContext) -> CheckResult:
    from leadboost_schema.gate.base_tests import check_base_tests
    return check_base_tests(ctx.server, ctx.plan, ctx.options.base_tests_timeout_s)


# The checks in the order they run and report (issue 12's numbering): the cheap, static ones first.
CHECKS: dict[str, Callable[[GateContext], CheckResult]] = {
    "history": _history,
    "upgrade-equals-fresh": _equivalence,
    "data-kept": _data_kept,
    "locks": _locks,
    "load": _load,
    "old-clients": _old_clients,
    "base-tests": _base_tests,
}
# Run only when asked for by name (or --all): base's whole suite costs about a minute, the rest ~10 s together.
OPT_IN = frozenset({"base-tests"})


class UnknownCheck(ValueError):
    """A check name that is not in CHECKS."""


@dataclass
class GateReport:
    """What a gate run found. ``passed`` when no check has an error finding."""

    base: str
    head: str
    server: str
    new_upgrades: list[str]
    base_rows: int
    checks: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"base": self.base, "head": self.head, "server": self.server, "passed": self.passed,
                "seconds": round(self.seconds, 1), "new_upgrades": self.new_upgrades, "base_rows": self.base_rows,
                "checks": [check.as_dict() for check in self.checks]}


def selected(names: tuple[str, ...]) -> list[str]:
    unknown = [name for name in names if name not in CHECKS]
    if unknown:
        raise UnknownCheck(f"unknown check {unknown[0]!r}: the checks are {', '.join(map(repr, CHECKS))}")
    return [name for name in CHECKS if name in names or (not names and name not in OPT_IN)]


def run_gate(server: Server, plan: GatePlan, options: GateOptions = GateOptions(), head: str = "head",
             progress: Callable[[str], None] | None = None) -> GateReport:
    """Every selected check of the change from ``plan.base`` to ``plan.head_dir`` on ``server``."""
    names = selected(options.checks)
    started = time.monotonic()
    databases = build(server, plan, options.tenants, options.rounds)
    report = GateReport(plan.base, head, f"PostgreSQL {server.version // 10000}.{server.version % 100}",
                        [u.name for u in plan.new_upgrades], sum(rows for rows, _ in databases.base_rows.values()))
    report.checks.append(CheckResult("build", figures={"seconds": round(time.monotonic() - started, 1),
                                                       "base rows": report.base_rows}))
    context = GateContext(server, plan, databases, options)
    with context.stack:
        for name in names:
            if progress:
                progress(f"gate: {name}")
            began = time.monotonic()
            result = CHECKS[name](context)
            result.figures.setdefault("seconds", round(time.monotonic() - began, 1))
            report.checks.append(result)
    report.seconds = time.monotonic() - started
    return report

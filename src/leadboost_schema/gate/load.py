"""Check 5 of the gate, blocked time under load: a clone of the filled base is migrated to head along head's real
path (``upgrades.apply.migrate``) while ``clients`` application sessions keep calling the base release's public
functions (``gate.workload``) and a monitor session times their lock waits (``gate.lock_waits``). A call blocked
longer than ``max_blocked_s``, an error the schema does not document as retryable, or a failed upgrade fails the
check (docs/gate-locks-and-load.md)."""
from __future__ import annotations

import math
import re
import threading
import time
from collections import defaultdict

import psycopg

from leadboost_schema.databases.sql_statements import statement_start
from leadboost_schema.gate.build import Databases
from leadboost_schema.gate.findings import CheckResult, Finding
from leadboost_schema.gate.lock_waits import LockWait, LockWaitMonitor, blocked_seconds
from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.gate.workload import CallRecord, Workload
from leadboost_schema.upgrades.apply import migrate

NAME = "load"
# schema/README.md, "Error codes": the application retries these (nothing changed, the call is not in doubt).
RETRYABLE = {"40001": "serialization_failure", "40P01": "deadlock_detected", "55P03": "lock_not_available"}
FIX_BLOCKED = ("take ACCESS EXCLUSIVE only for catalog-only statements, last and briefly; move backfills and "
               "validations out of that transaction (NOT VALID + VALIDATE, CONCURRENTLY, batches); lock the tables "
               "it needs up front, in the order the application locks them (LOCK TABLE … IN ACCESS EXCLUSIVE MODE)")
FIX_ERROR = ("keep the previous release's calls working during the upgrade: expand first (new objects beside the old), "
             "contract in a later release once no client uses the old")
FIX_RETRYABLE = ("a retryable error the application must absorb; when the upgrade causes it (a deadlock), take its "
                 "locks up front in the application's order")


def p99(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(math.ceil(0.99 * len(ordered)) - 1, 0)]


def _locate(statement: str, plan: GatePlan) -> str:
    """``file:line`` of the upgrade statement the migrating session was running (the runner sends each statement's
    text as written), else the statement's first line."""
    code = statement[statement_start(statement):]
    lines = [line.strip() for line in code.splitlines() if line.strip()]
    if not lines:
        return ""
    for upgrade in plan.new_upgrades:  # the runner's record of a file, the last statement of its transaction
        if lines[0].startswith("INSERT INTO sys.schema_upgrades") and f"'{upgrade.name}'" in code:
            return f"{upgrade.name}:COMMIT"
    for upgrade in plan.new_upgrades:
        text = upgrade.path.read_text(encoding="utf-8")
        index = text.find(lines[0])
        if index >= 0:
            return f"{upgrade.name}:{text.count(chr(10), 0, index) + 1}"
    return lines[0][:60]


_UPGRADE_STARTS = re.compile(r"\bupgrade (\d{4}_[a-z0-9_]+\.sql)")


class _Migration:
    """The migrating session on its own thread; ``pid`` known before it starts; ``starts``: when each upgrade file
    began (the master migration's ``\\echo`` before it), in the client's wall clock."""

    def __init__(self, dsn: str, plan: GatePlan) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True, application_name="leadboost-gate-migrate")
        self.pid = self.conn.info.backend_pid
        self.plan = plan
        self.seconds = 0.0
        self.error: psycopg.Error | Exception | None = None
        self.starts: list[tuple[str, float]] = []

    def _echo(self, line: str) -> None:
        found = _UPGRADE_STARTS.search(line)
        if found:
            self.starts.append((found.group(1), time.time()))

    def run(self) -> None:
        began = time.monotonic()
        try:
            migrate(self.conn, self.plan.head_dir, echo=self._echo)
        except Exception as error:  # noqa: BLE001 — reported as a finding with its SQLSTATE
            self.error = error
        self.seconds = time.monotonic() - began
        self.conn.close()


def _sqlstate_of(error: BaseException) -> tuple[str, str]:
    cause = error if isinstance(error, psycopg.Error) else error.__cause__
    if isinstance(cause, psycopg.Error):
        return cause.sqlstate or "", (cause.diag.message_primary or str(cause)).strip()
    return "", str(error)


def check_under_load(dbs: Databases, plan: GatePlan, max_blocked_s: float = 1.0, clients: int = 4) -> CheckResult:
    """Migrate a clone of the filled base to head under ``clients`` application sessions; report every call's
    blocked time and error."""
    result = CheckResult(NAME)
    with dbs.clone("base") as dsn:
        workload = Workload(dsn, clients)
        try:
            workload.start()
        except threading.BrokenBarrierError:
            result.findings.append(Finding(NAME, "error", "", "the workload did not start on the base: "
                                           + "; ".join(workload.failures)))
            workload.finish()
            return result
        migration = _Migration(dsn, plan)
        monitor = LockWaitMonitor(dsn, list(workload.pids), migration.pid)
        monitor.start()
        began = time.time()
        migration.run()
        ended = time.time()
        workload.finish()
        monitor.stop()
    _figures(result, workload.calls, monitor, began, ended, migration.seconds, clients)
    result.figures["blocked by upgrade"] = _by_upgrade(workload.calls, monitor, migration.starts, ended)
    result.findings += _findings(workload, monitor, plan, began, ended, max_blocked_s)
    if migration.error is not None:
        sqlstate, message = _sqlstate_of(migration.error)
        result.findings.append(Finding(NAME, "error", plan.new_upgrades[-1].name if plan.new_upgrades else "",
                                       f"the upgrade failed under load: {sqlstate} {message}".replace("  ", " "),
                                       FIX_BLOCKED if sqlstate in RETRYABLE else ""))
    for failure in workload.failures + ([monitor.error] if monitor.error else []):
        result.findings.append(Finding(NAME, "error", "", failure))
    return result


def _during(calls: list[CallRecord], began: float, ended: float) -> list[CallRecord]:
    return [call for call in calls if call.ended >= began and call.started <= ended]


def _figures(result: CheckResult, calls: list[CallRecord], monitor: LockWaitMonitor, began: float, ended: float,
             migrate_seconds: float, clients: int) -> None:
    during = _during(calls, began, ended)
    blocked = [blocked_seconds(monitor.waits, c.pid, c.started, c.ended)[0] for c in during]
    errors: dict[str, list[CallRecord]] = defaultdict(list)
    for call in calls:
        if call.sqlstate:
            errors[call.sqlstate].append(call)
    result.figures.update({
        "clients": clients, "calls": len(calls), "calls during the upgrade": len(during),
        "errors": sum(len(found) for found in errors.values()),
        "migrate s": round(migrate_seconds, 2),
        "max call ms (during)": round(max((c.seconds for c in during), default=0) * 1000, 1),
        "p99 call ms (during)": round(p99([c.seconds for c in during]) * 1000, 1),
        "max blocked ms": round(max(blocked, default=0) * 1000, 1),
        "p99 blocked ms": round(p99(blocked) * 1000, 1),
        "lock waits seen": len(monitor.waits), "monitor polls": monitor.polls,
    })
    if errors:
        result.figures["errors by SQLSTATE"] = [
            {"sqlstate": state, "calls": len(found), "functions": ", ".join(sorted({c.what for c in found})),
             "first message": found[0].message} for state, found in sorted(errors.items())]


def _by_upgrade(calls: list[CallRecord], monitor: LockWaitMonitor, starts: list[tuple[str, float]],
                ended: float) -> list[dict[str, object]]:
    """Per upgrade file, from its start to the next one's (the last: to the end of migrate): the calls that ran in
    that window and the time each spent waiting for locks within it (max and p99)."""
    rows = []
    for index, (name, began) in enumerate(starts):
        until = starts[index + 1][1] if index + 1 < len(starts) else ended
        blocked = [blocked_seconds(monitor.waits, c.pid, max(c.started, began), min(c.ended, until))[0]
                   for c in _during(calls, began, until)]
        rows.append({"upgrade": name, "ms": round((until - began) * 1000, 1), "calls": len(blocked),
                     "max blocked ms": round(max(blocked, default=0) * 1000, 1),
                     "p99 blocked ms": round(p99(blocked) * 1000, 1)})
    return rows


def _findings(workload: Workload, monitor: LockWaitMonitor, plan: GatePlan, began: float, ended: float,
              max_blocked_s: float) -> list[Finding]:
    findings = []
    over: dict[tuple[str, str], list[tuple[float, LockWait | None]]] = defaultdict(list)
    for call in _during(workload.calls, began, ended):
        seconds, longest = blocked_seconds(monitor.waits, call.pid, call.started, call.ended)
        if seconds > max_blocked_s:
            where = _locate(longest.migrator_statement, plan) if longest else ""
            over[(call.what, where)].append((seconds, longest))
    for (what, where), found in sorted(over.items()):
        worst = max(seconds for seconds, _ in found)
        findings.append(Finding(NAME, "error", where,
                                f"{len(found)} call(s) of {what} blocked over {max_blocked_s:g} s waiting for a lock "
                                f"(longest {worst:.2f} s) while the upgrade ran", FIX_BLOCKED))
    errors: dict[tuple[str, str], list[CallRecord]] = defaultdict(list)
    for call in workload.calls:
        if call.sqlstate:
            errors[(call.sqlstate, call.what)].append(call)
    for (sqlstate, what), found in sorted(errors.items()):
        retryable = sqlstate in RETRYABLE
        findings.append(Finding(NAME, "warning" if retryable else "error", what,
                                f"{len(found)} call(s) of {what} failed with {sqlstate}"
                                f"{' (' + RETRYABLE[sqlstate] + ', documented retryable)' if retryable else ''}: "
                                f"{found[0].message}", FIX_RETRYABLE if retryable else FIX_ERROR))
    return findings

"""Check 4 of the gate, the lock trace: every new upgrade executed statement by statement on a clone of the filled
base (``gate.trace``), and each way a statement would stall a live application on a populated table reported with
the safe pattern to use instead (docs/gate-locks-and-load.md). Statically suspicious statements (a plain CREATE
INDEX, a constraint without NOT VALID, SET NOT NULL) are flagged only when the trace confirms them: the table holds
rows and the statement read them."""
from __future__ import annotations

import re

import psycopg

from leadboost_schema.gate.build import Databases
from leadboost_schema.gate.findings import CheckResult, Finding
from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.gate.trace import MODES, StatementTrace, UpgradeTrace, strongest, trace_upgrade

NAME = "locks"
_ROW_EXCLUSIVE = MODES.index("RowExclusiveLock")
# SHARE and stronger conflict with the ROW EXCLUSIVE every application write holds.
_BLOCKS_WRITES = MODES.index("ShareLock")
_SETTINGS = re.compile(r"\s*(?:set|reset)\s", re.IGNORECASE)
_PLAIN_INDEX = re.compile(r"\s*create\s+(?:unique\s+)?index\s+(?!concurrently\b)", re.IGNORECASE)
_INDEX_TABLE = re.compile(r"\bon\s+(?:only\s+)?([\w.\"]+)", re.IGNORECASE)
_ALTER_TABLE = re.compile(r"\s*alter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?([\w.\"]+)", re.IGNORECASE)
_ONE_STEP_CONSTRAINT = re.compile(r"\badd\s+(?:constraint\s+[\w\"]+\s+)?(foreign\s+key|check)\b", re.IGNORECASE)
_NOT_VALID = re.compile(r"\bnot\s+valid\b", re.IGNORECASE)
_SET_NOT_NULL = re.compile(r"\bset\s+not\s+null\b", re.IGNORECASE)
_TYPE_CHANGE = re.compile(r"\balter\s+(?:column\s+)?[\w\"]+\s+(?:set\s+data\s+)?type\b", re.IGNORECASE)

FIX_TIMEOUT = ("begin the file with SET lock_timeout = '5s'; (and statement_timeout; RESET both at the end): a DDL "
               "waiting for its lock queues every later query of the table behind it")
FIX_HELD = ("keep the statements that need ACCESS EXCLUSIVE short and last in their transaction, or move the work "
            "after them (backfills, validations, other tables' locks) into its own upgrade; where two tables must "
            "be locked together take them up front with LOCK TABLE in the order the application locks them")
FIX_INDEX = ("CREATE INDEX CONCURRENTLY IF NOT EXISTS in an upgrade with 'transaction: none' (a failed build leaves "
             "an INVALID index: its down script drops it, then re-run)")
FIX_CONSTRAINT = ("ADD CONSTRAINT … NOT VALID (no scan, brief lock), then ALTER TABLE … VALIDATE CONSTRAINT in a later "
                  "upgrade (SHARE UPDATE EXCLUSIVE: reads and writes go on during the scan)")
FIX_NOT_NULL = ("ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT c in a later upgrade, then "
                "SET NOT NULL (PostgreSQL 12+ skips the scan given the validated CHECK) and DROP CONSTRAINT c")
FIX_TYPE = ("expand/contract: add a new column of the new type (nullable), fill it in batches and keep it in step "
            "with a trigger, switch readers, drop the old column later; or a binary-coercible change "
            "(varchar(n) → text, a longer varchar, more numeric precision), which does not rewrite")
FIX_REWRITE = ("add the column without a default (or with a constant one: metadata only since PostgreSQL 11), set "
               "the default afterwards and fill existing rows in batches")
FIX_FAILS = {
    "23502": ("add the column nullable (or with a constant default), backfill it in a 'transforms:' upgrade, add "
              "CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a later upgrade, then SET NOT NULL"),
    "23514": ("fix the rows first in an upgrade that declares them ('transforms:'), then ADD CONSTRAINT … NOT VALID "
              "and VALIDATE CONSTRAINT in a later upgrade"),
    "23505": "remove the duplicates first in an upgrade that declares them ('transforms:'), then add the key",
    "23503": "fix the orphan rows first in a 'transforms:' upgrade, then ADD the FOREIGN KEY … NOT VALID and VALIDATE it",
}
FIX_FAILS_OTHER = "make the upgrade work on the rows the previous release holds (the filled base is built from them)"


def _short(mode: str) -> str:
    return mode.removesuffix("Lock")


def _upper(mode: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", _short(mode)).upper()


class _Rows:
    """Rows per table before an upgrade ran, looked up by a name as a statement writes it."""

    def __init__(self, trace: UpgradeTrace) -> None:
        self.counts = trace.rows_before

    def name(self, written: str) -> str:
        bare = written.replace('"', "").lower()
        if bare in self.counts or "." in bare:
            return bare
        found = [name for name in self.counts if name.endswith("." + bare)]
        return found[0] if len(found) == 1 else bare

    def of(self, written: str) -> int:
        return self.counts.get(self.name(written), 0)

    def populated(self, name: str, step: StatementTrace | None = None) -> bool:
        kind = step.relkinds.get(name, "r") if step else "r"
        return kind in ("r", "p") and self.of(name) > 0


def _failure(step: StatementTrace) -> Finding:
    return Finding(NAME, "error", step.where,
                   f"fails on the filled base of the previous release: {step.sqlstate} {step.error} "
                   f"({step.summary()})", FIX_FAILS.get(step.sqlstate, FIX_FAILS_OTHER))


def _rewrites(step: StatementTrace, rows: _Rows) -> list[Finding]:
    tables = [name for name in step.rewritten if rows.populated(name)]
    if not tables:
        return []
    indexes = len(step.rewritten) - len(tables)
    fix = FIX_TYPE if _TYPE_CHANGE.search(step.sql) else FIX_REWRITE
    return [Finding(NAME, "error", step.where,
                    f"rewrites {name} ({rows.of(name):,} rows{f' and {indexes} index(es)' if indexes else ''}) "
                    "under ACCESS EXCLUSIVE: every read and write of it waits for the copy", fix)
            for name in tables]


def _index_without_concurrently(step: StatementTrace, rows: _Rows) -> list[Finding]:
    found = _INDEX_TABLE.search(step.sql)
    if not _PLAIN_INDEX.match(step.sql) or not found or not rows.populated(rows.name(found.group(1))):
        return []
    name = rows.name(found.group(1))
    return [Finding(NAME, "error", step.where,
                    f"CREATE INDEX without CONCURRENTLY on {name} ({rows.of(name):,} rows): a SHARE lock is held "
                    f"for the whole build ({step.rows_touched:,} rows read), every write to the table waits",
                    FIX_INDEX)]


def _validated_in_one_step(step: StatementTrace, rows: _Rows) -> list[Finding]:
    target = _ALTER_TABLE.match(step.sql)
    if not target or step.rows_touched == 0 or not rows.populated(rows.name(target.group(1))):
        return []
    name = rows.name(target.group(1))
    findings = []
    constraint = _ONE_STEP_CONSTRAINT.search(step.sql)
    if constraint and not _NOT_VALID.search(step.sql):
        kind = " ".join(constraint.group(1).upper().split())
        findings.append(Finding(NAME, "error", step.where,
                                f"ADD CONSTRAINT … {kind} validated in one step on {name} ({rows.of(name):,} rows): "
                                f"the validation scan ({step.rows_touched:,} rows read) runs under the ALTER's lock",
                                FIX_CONSTRAINT))
    if _SET_NOT_NULL.search(step.sql):
        findings.append(Finding(NAME, "error", step.where,
                                f"SET NOT NULL on {name} ({rows.of(name):,} rows) without a validated CHECK (col IS "
                                f"NOT NULL): every row is scanned ({step.rows_touched:,} read) under ACCESS "
                                "EXCLUSIVE", FIX_NOT_NULL))
    return findings


def _held_across(trace: UpgradeTrace, rows: _Rows) -> list[Finding]:
    """ACCESS EXCLUSIVE on a populated table, taken inside the file's transaction and kept to COMMIT while later
    statements read or write rows (error: the wait grows with the data) or lock further relations strongly enough to
    wait for the application (warning: each may wait up to lock_timeout while the table stays locked)."""
    if not trace.upgrade.in_transaction:
        return []
    findings = []
    for index, step in enumerate(trace.statements):
        for name, mode in step.locks.items():
            if mode != "AccessExclusiveLock" or not rows.populated(name, step):
                continue
            later = [s for s in trace.statements[index + 1:] if not _SETTINGS.match(s.sql)]
            working = [s for s in later if s.rows_touched > 0 or not s.observed]
            locking = [s for s in later if any(other != name and MODES.index(m) >= _BLOCKS_WRITES
                                               for other, m in s.locks.items())]
            if working:
                touched = sum(s.rows_touched for s in working)
                findings.append(Finding(
                    NAME, "error", step.where,
                    f"ACCESS EXCLUSIVE on {name} ({rows.of(name):,} rows) is held until COMMIT across "
                    f"{len(working)} later statement(s) that read or write rows ({touched:,} rows, the first at "
                    f"line {working[0].line}): every query on {name} waits for them", FIX_HELD))
            elif locking:
                others = sorted({o for s in locking for o, m in s.locks.items()
                                 if o != name and MODES.index(m) >= _BLOCKS_WRITES})
                findings.append(Finding(
                    NAME, "warning", step.where,
                    f"ACCESS EXCLUSIVE on {name} ({rows.of(name):,} rows) is held while later statements lock "
                    f"{', '.join(others)} (the first at line {locking[0].line}): each may wait for the application "
                    f"(up to lock_timeout, or a deadlock) while {name} stays locked", FIX_HELD))
    return findings


def _missing_lock_timeout(trace: UpgradeTrace, rows: _Rows) -> list[Finding]:
    """The first statement taking more than ROW EXCLUSIVE on a populated table, run with lock_timeout = 0. An
    error, not a warning: without it a DDL that waits for its lock behind one long application transaction queues
    every later query of the table behind itself, an outage of unbounded length, and the fix is one line."""
    for step in trace.statements:
        strong = [name for name, mode in step.locks.items()
                  if MODES.index(mode) > _ROW_EXCLUSIVE and rows.populated(name, step)]
        if strong:
            if step.lock_timeout in ("0", "0ms", ""):
                mode = _upper(strongest([step.locks[name] for name in strong]))
                return [Finding(NAME, "error", step.where,
                                f"no lock_timeout set before {mode} on {', '.join(sorted(strong))} "
                                f"({step.summary()})", FIX_TIMEOUT)]
            return []
    return []


def findings_of(trace: UpgradeTrace) -> list[Finding]:
    """Every finding of one traced upgrade."""
    rows = _Rows(trace)
    findings = _missing_lock_timeout(trace, rows) + _held_across(trace, rows)
    for step in trace.statements:
        if step.failed:
            findings.append(_failure(step))
            continue
        findings += _rewrites(step, rows) + _index_without_concurrently(step, rows) + _validated_in_one_step(step, rows)
    return findings


def _statement_row(step: StatementTrace) -> dict[str, object]:
    return {"where": step.where, "statement": step.summary(), "ms": round(step.seconds * 1000, 1),
            "locks": "; ".join(f"{_short(mode)} {name}" for name, mode in sorted(step.locks.items()))
            + ("" if step.observed else " (inferred)"),
            "rewrites": ", ".join(step.rewritten), "rows read/written": step.rows_touched,
            "lock_timeout": step.lock_timeout, "error": f"{step.sqlstate} {step.error}".strip()}


def _worth_showing(step: StatementTrace) -> bool:
    """Statements that take a lock beyond ROW EXCLUSIVE, rewrite, touch rows or fail; catalog-only ones (functions,
    comments, settings) would drown them."""
    return (step.failed or bool(step.rewritten) or step.rows_touched > 0
            or any(MODES.index(mode) > _ROW_EXCLUSIVE for mode in step.locks.values()))


def _upgrade_row(trace: UpgradeTrace) -> dict[str, object]:
    modes = [mode for step in trace.statements for mode in step.locks.values()]
    return {"upgrade": trace.upgrade.name, "transaction": "file" if trace.upgrade.in_transaction else "none",
            "statements": len(trace.statements), "ms": round(sum(s.seconds for s in trace.statements) * 1000, 1),
            "strongest lock": _short(strongest(modes)) if modes else "",
            "rewrites": sum(len(s.rewritten) for s in trace.statements),
            "rows read/written": sum(s.rows_touched for s in trace.statements),
            "result": f"fails at line {trace.failed.line}" if trace.failed else "ok"}


def check_locks(dbs: Databases, plan: GatePlan) -> CheckResult:
    """Trace each new upgrade, in order, on one clone of the filled base; stop at the first that fails (later ones
    may build on it)."""
    result = CheckResult(NAME)
    traces: list[UpgradeTrace] = []
    with dbs.clone("base") as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        for upgrade in plan.new_upgrades:
            trace = trace_upgrade(conn, upgrade)
            traces.append(trace)
            result.findings += findings_of(trace)
            if trace.failed:
                untraced = [u.name for u in plan.new_upgrades[len(traces):]]
                if untraced:
                    result.findings.append(Finding(NAME, "info", upgrade.name,
                                                   f"not traced after this failure: {', '.join(untraced)}"))
                break
    result.figures["upgrades"] = [_upgrade_row(trace) for trace in traces]
    result.figures["statements"] = [_statement_row(s) for trace in traces for s in trace.statements
                                    if _worth_showing(s)]
    return result

"""Gate check 3, data kept: after the upgrade every row base held is there (per table: count and md5 over the
columns base had), except in the tables a new upgrade declares in ``transforms``; every invariant holds; and the
down scripts, run in reverse after the upgrade on another clone, give back base's catalog and rows exactly."""
from __future__ import annotations

import re

import psycopg

from leadboost_schema.catalog.drift import compare
from leadboost_schema.catalog.snapshot import snapshot
from leadboost_schema.databases.sql_files import SchemaFileError, apply_sql_file
from leadboost_schema.gate.build import Databases
from leadboost_schema.gate.findings import CheckResult, Finding
from leadboost_schema.gate.plan import GatePlan
from leadboost_schema.gate.upgraded import Upgraded, failure_finding, upgraded_base
from leadboost_schema.testing.data_fingerprint import (
    data_fingerprint,
    fingerprint_changes,
    kept_rows,
    table_columns,
)
from leadboost_schema.testing.invariants import violations
from leadboost_schema.upgrades.apply import migrate
from leadboost_schema.upgrades.files import UPGRADES, Upgrade

NAME = "data kept"
# The migration's own bookkeeping gains one row per upgrade by design; base's rows in it are the history check's
# business (LB902/LB903), not data an upgrade may lose.
VERSION_TABLE = "sys.schema_upgrades"
_TRANSACTION = re.compile(r"^--\s*transaction:\s*(\w+)", re.MULTILINE)


def check_data_kept(dbs: Databases, plan: GatePlan, upgraded: Upgraded | None = None) -> CheckResult:
    """Check 3 on ``upgraded`` (made here when not given) plus one more clone for the down scripts."""
    if upgraded is None:
        with upgraded_base(dbs, plan) as made:
            return check_data_kept(dbs, plan, made)
    result = CheckResult(NAME, figures={"tables": len(upgraded.base_columns),
                                        "base rows": sum(n for n, _ in upgraded.base_kept.values())})
    if upgraded.failure:
        result.findings.append(failure_finding(NAME, upgraded))
        return result
    transformed = {table: u for u in plan.new_upgrades for table in u.transforms}
    with psycopg.connect(upgraded.dsn, autocommit=True) as conn:
        result.findings += _rows_kept(conn, upgraded, transformed)
        broken = violations(conn)
    for invariant, rows in broken.items():
        result.findings.append(Finding(NAME, "error", invariant, f"after the upgrade, {len(rows)} row(s) break "
                                       f"'{invariant}', e.g. {rows[0]}", "the upgrade must carry the data along "
                                       "(fill or fix the rows in the same transaction)"))
    result.figures["invariants broken"] = len(broken)
    result.findings += _down_round_trip(dbs, plan)
    return result


def _rows_kept(conn: psycopg.Connection, upgraded: Upgraded, transformed: dict[str, Upgrade]) -> list[Finding]:
    found = []
    now = table_columns(conn)
    still: dict[str, list[str]] = {}
    for table, columns in sorted(upgraded.base_columns.items()):
        if table == VERSION_TABLE:
            continue
        rows = upgraded.base_kept[table][0]
        if table not in now:
            found.append(Finding(NAME, "error", table, f"{table} is gone, and its {rows} row(s) with it",
                                 "keep the table (an expand step), or move its rows before dropping it"))
            continue
        gone = [c for c in columns if c not in now[table]]
        if gone and table not in transformed:
            found.append(Finding(NAME, "error", table, f"column(s) {', '.join(gone)} of {table} are dropped with "
                                 f"the values of its {rows} row(s)", "declare the table in the upgrade's "
                                 "`transforms:` header when dropping the values is the point (a contract step)"))
        still[table] = [c for c in columns if c in now[table]]
    after = kept_rows(conn, {t: c for t, c in still.items() if c})
    for table, (count, digest) in sorted(after.items()):
        before_count, before_digest = upgraded.base_kept[table]
        if table in transformed:
            found += _transformed(table, transformed[table], before_count, count)
        elif (count, digest) != (before_count, before_digest):
            said = (f"{before_count} rows → {count} rows" if count != before_count else
                    f"{count} rows, same count, values changed")
            found.append(Finding(NAME, "error", table, f"{table} does not keep base's rows ({said}) and no new "
                                 "upgrade declares it in `transforms:`", "copy the rows along (INSERT … SELECT), "
                                 "or declare `transforms:` when rewriting them is the point"))
    return found


def _transformed(table: str, upgrade: Upgrade, before: int, after: int) -> list[Finding]:
    """A declared transform may rewrite or fill rows, not remove them: fewer rows is data lost, declared or not
    (there is no header for deleting rows; a deletion is a decision the gate leaves to a human)."""
    if after < before:
        return [Finding(NAME, "error", table, f"{table} shrinks from {before} to {after} rows; {upgrade.name} "
                        "declares it transformed, but a transform keeps every row", "keep the rows (mark them "
                        "instead of deleting), or delete them in a separate, reviewed step")]
    return [Finding(NAME, "info", table, f"{table} transformed by {upgrade.name} as declared ({before} → {after} "
                    "rows); its values were not compared")]


def _down_round_trip(dbs: Databases, plan: GatePlan) -> list[Finding]:
    """Upgrade another clone, then run the new upgrades' down scripts newest first (each with its record
    deleted, as schema/README.md says): the catalog and every row must be base's again."""
    irreversible = [u for u in plan.new_upgrades if u.down is None]
    found = [Finding(NAME, "info", u.name, f"{u.name} is irreversible: {u.irreversible_because}")
             for u in irreversible]
    if not plan.new_upgrades:
        return found
    if irreversible:
        found.append(Finding(NAME, "info", "down scripts", "the down scripts were not run: "
                             f"{irreversible[-1].name} cannot be undone, so base cannot be reached from head"))
        return found
    with dbs.clone("base") as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        migrate(conn, plan.head_dir)
        for upgrade in reversed(plan.new_upgrades):
            failure = _run_down(conn, plan, upgrade)
            if failure:
                return [*found, failure]
        catalog, rows = snapshot(conn), data_fingerprint(conn)
    if VERSION_TABLE not in dbs.base_catalog["tables"]:  # an adopted base: the version table is adoption's
        catalog["tables"].pop(VERSION_TABLE, None)
        rows.pop(VERSION_TABLE, None)
    names = ", ".join(u.down or "" for u in reversed(plan.new_upgrades))
    for difference in compare(dbs.base_catalog, catalog):
        found.append(Finding(NAME, "error", str(difference.object), f"after the down scripts ({names}): "
                             f"{difference} (expected = base)", "make each down script undo exactly what its "
                             "upgrade does"))
    for line in fingerprint_changes(dbs.base_rows, rows):
        found.append(Finding(NAME, "error", line.split(":")[0], f"after the down scripts ({names}) the rows are "
                             f"not base's: {line}", "make each down script give the rows back as they were"))
    return found


def _run_down(conn: psycopg.Connection, plan: GatePlan, upgrade: Upgrade) -> Finding | None:
    path = plan.head_dir / UPGRADES / (upgrade.down or "")
    match = _TRANSACTION.search(path.read_text(encoding="utf-8"))
    try:
        if match and match.group(1) == "file":
            with conn.transaction():
                apply_sql_file(conn, path)
        else:
            apply_sql_file(conn, path)
    except SchemaFileError as error:
        cause = error.__cause__
        state = cause.diag.sqlstate if isinstance(cause, psycopg.Error) else "none"
        return Finding(NAME, "error", upgrade.down or "", f"the down script of {upgrade.name} failed after the "
                       f"upgrade: SQLSTATE {state}: {str(error).strip().splitlines()[0]}",
                       "make the down script run on a database the upgrade just built")
    conn.execute(f"DELETE FROM {VERSION_TABLE} WHERE upgrade = %s", (upgrade.name,))
    return None
